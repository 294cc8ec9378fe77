/**
 * Section 5's runs, in order: the command with every default (`athena-rx classify` as users run
 * it), the library's pipeline with every default, and the memory-bounded deployment of
 * docs/flow-control.md. Shared by the full benchmark and `--only memory`.
 */
import { type PipelineSettings } from './e2e.js';
import {
  BOUNDED_PIXELS_IN_FLIGHT,
  BOUNDED_WINDOW,
  measureMemoryInChild,
  TUNED_GLIBC,
  type MemoryJob,
  type MemoryResult,
  type MemoryRun,
} from './memory.js';
import { measureCliMemory } from './memory-cli.js';
import { DEFAULTS_VARIANT } from './memory-pairs.js';

/** The label of the command's run, which the Targets table judges the default-memory target on. */
export const CLI_DEFAULTS = 'CLI defaults: `athena-rx classify`, nothing set';
/** The label of the library's run with every default. */
export const LIBRARY_DEFAULTS = 'library defaults';

interface Variant {
  readonly label: string;
  readonly env: Readonly<Record<string, string>>;
  readonly run: () => Promise<MemoryResult>;
}

/**
 * Runs the three variants one after another, each through `section` (which records a failure
 * instead of throwing), and hands `onRun` the runs finished so far after each. The command runs first: it is the one
 * the target is about, and it starts from the built `dist/` as it is when the run begins.
 */
export async function runMemoryVariants(
  repoRoot: string,
  job: Omit<MemoryJob, 'settings'>,
  settings: PipelineSettings,
  section: (name: string, work: () => Promise<MemoryResult>) => Promise<MemoryResult | undefined>,
  log: (line: string) => void,
  onRun: (runs: readonly MemoryRun[]) => Promise<void>,
): Promise<void> {
  const bounded: PipelineSettings = {
    ...settings,
    maxPixelsInFlight: BOUNDED_PIXELS_IN_FLIGHT,
    window: BOUNDED_WINDOW,
  };
  const variants: Variant[] = [
    {
      label: CLI_DEFAULTS,
      env: {},
      run: () => measureCliMemory(repoRoot, { ...job, settings }, log, DEFAULTS_VARIANT),
    },
    {
      label: LIBRARY_DEFAULTS,
      env: {},
      run: () => measureMemoryInChild(repoRoot, { ...job, settings }, log),
    },
    {
      label:
        `memory-bounded: tuned glibc malloc, maxPixelsInFlight ${BOUNDED_PIXELS_IN_FLIGHT.toLocaleString('en')}, ` +
        `window and batch ${BOUNDED_WINDOW}`,
      env: TUNED_GLIBC,
      run: () => measureMemoryInChild(repoRoot, { ...job, settings: bounded }, log, TUNED_GLIBC),
    },
  ];
  const runs: MemoryRun[] = [];
  for (const v of variants) {
    const result = await section(`memory, ${job.images} images, ${v.label}`, v.run);
    const env = Object.entries(v.env)
      .map(([k, x]) => `${k}=${x}`)
      .join(' ');
    if (result) runs.push({ label: v.label, env, result });
    await onRun(runs);
  }
}
