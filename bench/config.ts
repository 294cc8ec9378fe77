import { parseArgs } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PrepareMode } from '../src/imaging/prepare.js';
import { SCENARIOS, type ScenarioName } from './faults.js';

/** How big a run is. */
export type RunSize = 'full' | 'quick' | 'smoke';

export interface BenchConfig {
  readonly size: RunSize;
  readonly out: string;
  readonly corpusDir: string;
  /** Corpus files used (all of them when undefined). */
  readonly corpusLimit?: number;
  readonly prepareRounds: number;
  readonly brotli: {
    readonly qualities: readonly number[];
    readonly imagesPerQuality: number;
    readonly imagesSlow: number;
  };
  readonly e2e: { readonly imagesPerRun: number; readonly pairs: number };
  readonly memoryImages: number;
  /** Section 5's throughput pairs: how many, and the images of each run. */
  readonly memoryPairs: { readonly pairs: number; readonly images: number };
  readonly transportImages: number;
  readonly server: 'cli' | 'process';
  readonly mode: PrepareMode;
  /** The fault scenarios (section 8) and the images of each. */
  readonly faults: { readonly images: number; readonly scenarios: readonly ScenarioName[] };
  /** The telemetry cost runs (section 9): images per run and rounds of off, stream and image. */
  readonly telemetry: { readonly images: number; readonly rounds: number; readonly lightImages: number };
  /** Run this section alone and write it into the existing report (`--only faults`, `memory`, `telemetry`, `scale-out`, `browser`). */
  readonly only?: 'faults' | 'memory' | 'telemetry' | 'scale-out' | 'browser';
  /** Images of the scale-out section (section 10). */
  readonly scaleOutImages: number;
  /** Rounds of section 11 (browser preparation; full runs and `--only browser`). */
  readonly browserRounds: number;
}

const ALL_QUALITIES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

const SIZES: Record<RunSize, Omit<BenchConfig, 'size' | 'out' | 'corpusDir' | 'server' | 'mode' | 'only'>> = {
  full: {
    prepareRounds: 6,
    brotli: { qualities: ALL_QUALITIES, imagesPerQuality: 24, imagesSlow: 3 },
    e2e: { imagesPerRun: 144, pairs: 3 },
    memoryImages: 20_000,
    memoryPairs: { pairs: 4, images: 1_000 },
    transportImages: 3_000,
    faults: { images: 4_000, scenarios: SCENARIOS },
    telemetry: { images: 240, rounds: 5, lightImages: 2_000 },
    scaleOutImages: 200,
    browserRounds: 3,
  },
  quick: {
    prepareRounds: 2,
    brotli: { qualities: [0, 1, 2, 3, 4, 5, 9], imagesPerQuality: 8, imagesSlow: 1 },
    e2e: { imagesPerRun: 48, pairs: 1 },
    memoryImages: 240,
    memoryPairs: { pairs: 2, images: 60 },
    transportImages: 500,
    faults: { images: 400, scenarios: SCENARIOS },
    telemetry: { images: 48, rounds: 2, lightImages: 300 },
    scaleOutImages: 60,
    browserRounds: 1,
  },
  smoke: {
    corpusLimit: 4,
    prepareRounds: 1,
    brotli: { qualities: [0, 2], imagesPerQuality: 2, imagesSlow: 1 },
    e2e: { imagesPerRun: 8, pairs: 1 },
    memoryImages: 40,
    memoryPairs: { pairs: 1, images: 16 },
    transportImages: 64,
    // The other scenarios wait out 20 to 40 s faults whatever the size.
    faults: { images: 48, scenarios: ['clean', 'restart-2s', 'global-errors'] },
    telemetry: { images: 8, rounds: 1, lightImages: 64 },
    scaleOutImages: 16,
    browserRounds: 1,
  },
};

const USAGE = `usage: npm run bench -- [--quick | --smoke] [--out <file>] [--corpus <dir>] [--server cli|process]
  --quick           a subset in about five minutes (most of it the fault scenarios' waits) (report marked "quick run", default a temp file)
  --smoke           the smallest run that exercises every section (4 photos, 1 round, 40 images)
  --out <file>      where to write the report (default docs/performance.md for full runs)
  --corpus <dir>    the photos (default ../shared/corpus/photos from the repository root)
  --server <how>    cli: node dist/cli/main.js serve (default, falls back to process); process: bench/server-process.ts
  --mode <mode>     resize mode of the end-to-end and memory runs (default exact)
  --memory-images <n>  images of the memory run (default 20000 full, 240 quick, 40 smoke)
  --only faults     run section 8 (faults) alone and write it into the report at --out, the other
                    sections left as they are (a full-size --only run writes docs/performance.md)
  --only memory     run section 5 (memory: the CLI with every default, the library with every
                    default, the memory-bounded deployment) alone and write it and its Targets rows
                    into the report at --out
  --only telemetry  run section 9 (telemetry cost: off, spans per stream, spans per image) alone and
                    write it, with its Targets line, into the report at --out
  --only scale-out  run section 10 (classify against 1 and 2 queue workers over Redis) alone, the same way;
                    full runs include it, --quick and --smoke runs only with --only scale-out
  --only browser    run section 11 (browser preparation in headless Chromium, /usr/bin/chromium) alone
                    and write it, with its Targets rows, into the report at --out; full runs also run
                    it after section 8, quick and smoke runs leave it out
  --faults <list>   the fault scenarios to run, comma-separated (default all; smoke: clean,restart-2s,
                    global-errors): ${SCENARIOS.join(', ')}`;

/** Reads the command line. */
export function benchConfig(argv: readonly string[], repoRoot: string, defaultCorpus: string): BenchConfig {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      out: { type: 'string' },
      corpus: { type: 'string' },
      server: { type: 'string', default: 'cli' },
      mode: { type: 'string', default: 'exact' },
      'memory-images': { type: 'string' },
      only: { type: 'string' },
      faults: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const size: RunSize = values.smoke ? 'smoke' : values.quick ? 'quick' : 'full';
  if (values.server !== 'cli' && values.server !== 'process')
    throw new Error(`--server must be cli or process\n${USAGE}`);
  if (values.mode !== 'exact' && values.mode !== 'fast')
    throw new Error(`--mode must be exact or fast\n${USAGE}`);
  const memory = values['memory-images'] === undefined ? undefined : Number(values['memory-images']);
  if (memory !== undefined && !(Number.isInteger(memory) && memory > 0)) {
    throw new Error(`--memory-images must be a positive integer\n${USAGE}`);
  }
  if (
    values.only !== undefined &&
    !['faults', 'memory', 'telemetry', 'scale-out', 'browser'].includes(values.only)
  )
    throw new Error(`--only must be faults, memory, telemetry, scale-out or browser\n${USAGE}`);
  const scenarios = values.faults?.split(',').map((name) => name.trim());
  for (const name of scenarios ?? []) {
    if (!(SCENARIOS as readonly string[]).includes(name))
      throw new Error(`--faults: unknown scenario ${JSON.stringify(name)}\n${USAGE}`);
  }
  const sized = SIZES[size];
  const out =
    values.out ??
    (size === 'full'
      ? join(repoRoot, 'docs', 'performance.md')
      : join(tmpdir(), `athena-rx-bench-${size}.md`));
  return {
    size,
    out,
    corpusDir: values.corpus ?? defaultCorpus,
    server: values.server,
    mode: values.mode,
    ...sized,
    ...(memory === undefined ? {} : { memoryImages: memory }),
    ...(scenarios === undefined
      ? {}
      : { faults: { ...sized.faults, scenarios: scenarios as ScenarioName[] } }),
    ...(values.only === undefined ? {} : { only: values.only as NonNullable<BenchConfig['only']> }),
  };
}
