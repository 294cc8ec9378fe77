/**
 * The throughput half of the default-memory target: `athena-rx classify` with every default against
 * the same command with its former defaults set back, in pairs run back to back (the order
 * alternating), so that the machine's drift over a long run falls on both sides alike.
 */
import { type PipelineSettings } from './e2e.js';
import { measureCliMemory, type CliVariant } from './memory-cli.js';
import { type MemoryJob } from './memory.js';
import { median } from './stats.js';
import { cliConcurrency } from '../src/cli/defaults.js';
import { TUNE_MALLOC_ENV } from '../src/cli/relaunch.js';
import { cpuCount } from '../src/internal/core/validate.js';

/** One pair: images per second of each side, and which ran first. */
export interface ThroughputPair {
  readonly defaults: number;
  readonly former: number;
  readonly formerFirst: boolean;
}

export interface ThroughputPairs {
  readonly images: number;
  readonly pairs: readonly ThroughputPair[];
}

/** The options that give the command its former defaults back (with `ATHENA_RX_TUNE_MALLOC=0`). */
export const FORMER_ARGS: readonly string[] = [
  '--concurrency',
  String(cpuCount()),
  '--max-pixels-in-flight',
  '10000000000',
  '--window',
  '32',
  '--batch-size',
  '32',
];

/** How the report names the former defaults: the command line that gives them back. */
export const CLI_FORMER = `CLI former defaults: \`ATHENA_RX_TUNE_MALLOC=0 athena-rx classify ${FORMER_ARGS.join(' ')}\``;

export const DEFAULTS_VARIANT: CliVariant = { args: [], env: {}, inFlight: cliConcurrency() };
export const FORMER_VARIANT: CliVariant = {
  args: FORMER_ARGS,
  env: { [TUNE_MALLOC_ENV]: '0' },
  inFlight: cpuCount(),
};

/** Runs `pairs` pairs of `images` images each; a failed run throws. */
export async function measureThroughputPairs(
  repoRoot: string,
  job: Omit<MemoryJob, 'settings' | 'images'>,
  settings: PipelineSettings,
  pairs: number,
  images: number,
  log: (line: string) => void,
): Promise<ThroughputPairs> {
  const run = async (variant: CliVariant): Promise<number> => {
    const result = await measureCliMemory(repoRoot, { ...job, settings, images }, () => undefined, variant);
    if (result.tally.failed > 0) throw new Error(`${result.tally.failed} images failed in a throughput pair`);
    return result.imagesPerSecond;
  };
  const measured: ThroughputPair[] = [];
  for (let i = 0; i < pairs; i++) {
    const formerFirst = i % 2 === 1;
    const order = formerFirst ? [FORMER_VARIANT, DEFAULTS_VARIANT] : [DEFAULTS_VARIANT, FORMER_VARIANT];
    const speeds = new Map<CliVariant, number>();
    for (const variant of order) speeds.set(variant, await run(variant));
    const defaults = speeds.get(DEFAULTS_VARIANT)!;
    const former = speeds.get(FORMER_VARIANT)!;
    log(`   pair ${i + 1}: defaults ${defaults.toFixed(1)}, former ${former.toFixed(1)} images/s`);
    measured.push({ defaults, former, formerFirst });
  }
  return { images, pairs: measured };
}

/** The median over the pairs of defaults / former. */
export function pairRatio(p: ThroughputPairs): number {
  return median(p.pairs.map((x) => x.defaults / x.former));
}
