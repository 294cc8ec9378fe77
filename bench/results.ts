import { type BrotliRow } from './brotli.js';
import { type BenchConfig } from './config.js';
import { type E2eResult } from './e2e.js';
import { type FaultsResult } from './faults.js';
import { type MachineInfo } from './machine.js';
import { type MemoryRun } from './memory.js';
import { type ThroughputPairs } from './memory-pairs.js';
import { type PrepareResult } from './prepare.js';
import { type TelemetryResult } from './telemetry.js';
import { type TransportResult } from './transport.js';

/** The corpus as measured. */
export interface CorpusSummary {
  readonly dir: string;
  readonly files: number;
  readonly megabytes: number;
  /** Count of files by extension, e.g. `18 jpg, 3 webp, 3 png`. */
  readonly formats: string;
  readonly megapixels: { readonly min: number; readonly median: number; readonly max: number };
}

/** Everything one run measured; a section left undefined was skipped (see `notes`). */
export interface BenchResults {
  readonly config: BenchConfig;
  readonly machine: MachineInfo;
  readonly loadStart: string;
  loadEnd: string;
  readonly startedAt: string;
  durationS: number;
  corpus?: CorpusSummary;
  server?: { readonly how: string; readonly address: string };
  defaultQuality: number;
  prepare?: PrepareResult;
  brotli?: BrotliRow[];
  e2e?: E2eResult;
  /** The memory runs: default allocator first, then the pinned mmap threshold. */
  memory?: MemoryRun[];
  /** The command with every default against its former defaults, in pairs (section 5). */
  memoryPairs?: ThroughputPairs;
  transport?: TransportResult;
  /** The fault scenarios (section 8). */
  faults?: FaultsResult;
  /** The cost of telemetry (section 9). */
  telemetry?: TelemetryResult;
  /** Why a section is missing or what went wrong in it, by section number. */
  readonly notes: Map<number, string[]>;
}

export function note(results: BenchResults, section: number, text: string): void {
  const list = results.notes.get(section) ?? [];
  list.push(text);
  results.notes.set(section, list);
}
