import { spawn } from 'node:child_process';
import { lastValueFrom, reduce, tap } from 'rxjs';
import { fullPipeline, type PipelineSettings } from './e2e.js';
import { scriptArgs } from './paths.js';
import { benchClient, deploymentFor, type Tally } from './pipeline.js';
import { sampleMemory, type MemorySample } from './sampler.js';
import { procRssMb } from './server.js';
import { slope } from './stats.js';
import { MALLOC_TUNABLES } from '../src/cli/relaunch.js';

export interface MemoryResult {
  readonly settings: PipelineSettings;
  readonly images: number;
  readonly wallS: number;
  readonly imagesPerSecond: number;
  readonly samples: MemorySample[];
  readonly peakRssMb: number;
  readonly peakHeapMb: number;
  /** Least-squares slope of RSS over the second half of the run, MB per minute. */
  readonly rssSlopeMbPerMin: number;
  readonly heapSlopeMbPerMin: number;
  /** RSS at the middle and at the end of the run. */
  readonly rssMidMb: number;
  readonly rssEndMb: number;
  readonly serverPeakRssMb: number;
  readonly tally: Tally;
  /** The most processes whose RSS was summed (the command's launcher and its child); 1 when absent. */
  readonly processes?: number;
  /**
   * For a process tree, the peak of its processes' plain RSS sum, which counts the pages they share
   * (the Node binary, mapped by both) twice; `peakRssMb` counts them once.
   */
  readonly peakRssSumMb?: number;
}

/** What the memory run needs; plain data, so it can cross into a child process. */
export interface MemoryJob {
  readonly paths: readonly string[];
  readonly address: string;
  readonly serverPid: number;
  readonly settings: PipelineSettings;
  readonly images: number;
}

async function* cycle(paths: readonly string[], total: number): AsyncGenerator<string> {
  for (let i = 0; i < total; i += 1) yield paths[i % paths.length]!;
}

/**
 * Pushes `images` paths (the corpus cycled, from an async generator, so nothing is held) through
 * the full pipeline to the server process, sampling this process's RSS and heap every second.
 */
export async function measureMemory(
  job: MemoryJob,
  onProgress?: (done: number) => void,
): Promise<MemoryResult> {
  const client = benchClient(job.address);
  let done = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  const sampler = sampleMemory(
    1000,
    () => done,
    () => procRssMb(job.serverPid),
  );
  const progress = setInterval(() => onProgress?.(done), 30_000);
  const t0 = Date.now();
  try {
    await lastValueFrom(
      fullPipeline(cycle(job.paths, job.images), client, deploymentFor('memory'), job.settings).pipe(
        tap((o) => {
          done += 1;
          if (o.kind === 'failure') {
            failed += 1;
            firstFailure ??= `${o.stage} ${o.error.code}: ${o.error.message}`;
          }
        }),
        reduce(() => 0, 0),
      ),
    );
  } finally {
    clearInterval(progress);
    client.close();
  }
  const wallS = (Date.now() - t0) / 1000;
  const samples = sampler.stop();
  const half = samples.filter((s) => s.t >= samples[samples.length - 1]!.t / 2);
  const perMinute = (ys: number[]): number =>
    slope(
      half.map((s) => s.t / 60),
      ys,
    );
  const mid = half[0] ?? samples[0]!;
  return {
    settings: job.settings,
    images: job.images,
    wallS,
    imagesPerSecond: job.images / wallS,
    samples,
    peakRssMb: Math.max(...samples.map((s) => s.rssMb)),
    peakHeapMb: Math.max(...samples.map((s) => s.heapUsedMb)),
    rssSlopeMbPerMin: perMinute(half.map((s) => s.rssMb)),
    heapSlopeMbPerMin: perMinute(half.map((s) => s.heapUsedMb)),
    rssMidMb: mid.rssMb,
    rssEndMb: samples[samples.length - 1]!.rssMb,
    serverPeakRssMb: maxOrNaN(samples.map((s) => s.serverRssMb).filter(Number.isFinite)),
    tally: { ok: done - failed, failed, ...(firstFailure === undefined ? {} : { firstFailure }) },
  };
}

/** One memory run and the allocator environment it ran under. */
export interface MemoryRun {
  /** e.g. `defaults`. */
  readonly label: string;
  /** Environment variables set for the child, as `NAME=value` text; empty for none. */
  readonly env: string;
  readonly result: MemoryResult;
}

/**
 * glibc raises its mmap threshold to the size of every large block freed, up to 32 MiB; after the
 * first multi-megapixel decode, 30 MB pixel buffers come from the heap arenas instead of mmap and
 * their pages are kept after free. Pinning the threshold keeps large buffers on mmap, so freeing
 * one returns it to the system; transparent huge pages for those mappings (`hugetlb=1`, glibc 2.35
 * and later, ignored before) take most of the page-fault cost of that back; two arenas instead of
 * one per thread keep the small blocks together.
 */
export const TUNED_GLIBC: Readonly<Record<string, string>> = { GLIBC_TUNABLES: MALLOC_TUNABLES };

/**
 * The decode budget of the memory-bounded run, as docs/flow-control.md gives it: one large photo at
 * a time, smaller ones beside it.
 */
export const BOUNDED_PIXELS_IN_FLIGHT = 36_000_000;

/**
 * The window (and request size) of the memory-bounded run: 16 images, so a request and its encoded
 * copies are about 7 MB instead of 14 MB, with no loss of throughput against a server nearby.
 */
export const BOUNDED_WINDOW = 16;

/**
 * Runs {@link measureMemory} in a fresh child process (`bench/memory-process`, compiled under
 * `npm run bench`), so the RSS measured is the pipeline's alone, not what the earlier steps of the
 * benchmark left behind, nor a TypeScript loader's.
 * Progress lines of the child go to `onLine`.
 */
export function measureMemoryInChild(
  repoRoot: string,
  job: MemoryJob,
  onLine: (line: string) => void,
  env: Readonly<Record<string, string>> = {},
): Promise<MemoryResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, scriptArgs('memory-process'), {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
      for (const line of chunk.split('\n')) if (line.trim()) onLine(line);
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0)
        return reject(new Error(`memory process exited with ${String(code)}: ${err.slice(-1000)}`));
      try {
        resolve(JSON.parse(out) as MemoryResult);
      } catch (error) {
        reject(new Error(`memory process gave no result: ${String(error)}`));
      }
    });
    child.stdin.end(JSON.stringify(job));
  });
}

function maxOrNaN(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : Math.max(...values);
}
