/**
 * The memory run of the command as a user runs it: `athena-rx classify` (the package's `bin`, every
 * default, no allocator setting of the bench's environment passed on) over a list file of the corpus
 * cycled, with the RSS of its whole process tree (the launcher and the process it starts) read from
 * /proc every second.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_BROTLI_QUALITY } from '../src/operators/compress.js';
import { type MemoryJob, type MemoryResult } from './memory.js';
import { compiled } from './paths.js';
import { BENCH_AFFILIATE } from './pipeline.js';
import { type MemorySample } from './sampler.js';
import { procRssMb, procStatusMb } from './server.js';
import { now, slope } from './stats.js';

/** The process `pid` and every process below it (Linux /proc; just `pid` elsewhere). */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [pid];
  }
  for (const name of entries) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length && tree.length < 64; i++) {
    for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  }
  return tree;
}

/** Pages of a process that no other process maps (USS: private clean + private dirty), MB; NaN elsewhere. */
function procPrivateMb(pid: number): number {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1]);
    return (kb('Private_Clean') + kb('Private_Dirty')) / 1024;
  } catch {
    return Number.NaN;
  }
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/** How a run of the command differs from `classify` with nothing set. */
export interface CliVariant {
  /** Options added after the common ones. */
  readonly args: readonly string[];
  /** Variables added to the environment (after the settings of the bench's own are left out). */
  readonly env: Readonly<Record<string, string>>;
  /** Images decoded at once, for the report. */
  readonly inFlight: number;
}

/** Variables that would change what the command does by default; the run leaves them out. */
const SETTINGS_ENV = /^(GLIBC_TUNABLES|MALLOC_.*|LD_PRELOAD|ATHENA_.*|UV_THREADPOOL_SIZE)$/;

/**
 * The command that runs `athena-rx`: the built package's bin (`npm run bench` and `npm test` build
 * it first), or its source under tsx where nothing is built.
 */
function binArgs(repoRoot: string): string[] {
  const built = join(repoRoot, 'dist', 'cli', 'bin.js');
  return compiled || existsSync(built)
    ? [built]
    : ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'bin.ts')];
}

/**
 * Runs `athena-rx classify --address A --insecure --affiliate bench --format jsonl --no-progress
 * --from-file LIST` on `job.images` paths against the server process, results read from its stdout
 * and counted. Samples hold the tree's resident memory (the largest process's RSS plus the others'
 * private pages) and its plain RSS sum; heap and external are not visible from outside (NaN). The
 * peak also takes the largest process's high-water mark (VmHWM), so no spike between samples is lost.
 */
export async function measureCliMemory(
  repoRoot: string,
  job: MemoryJob,
  onLine: (line: string) => void,
  variant: CliVariant,
): Promise<MemoryResult> {
  const dir = await mkdtemp(join(tmpdir(), 'athena-rx-memory-'));
  const list = join(dir, 'inputs.txt');
  await writeFile(
    list,
    Array.from({ length: job.images }, (_, i) => job.paths[i % job.paths.length]).join('\n') + '\n',
  );
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !SETTINGS_ENV.test(name))),
    ...variant.env,
  };
  const args = ['classify', '--address', job.address, '--insecure', '--affiliate', BENCH_AFFILIATE];
  const child = spawn(
    process.execPath,
    [
      ...binArgs(repoRoot),
      ...args,
      '--format',
      'jsonl',
      '--no-progress',
      '--from-file',
      list,
      ...variant.args,
    ],
    { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let done = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  let partial = '';
  let err = '';
  let processes = 1;
  let peakHwmMb = 0;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      done += 1;
      const row = JSON.parse(line) as { ok: boolean; stage?: string; code?: string; message?: string };
      if (!row.ok) {
        failed += 1;
        firstFailure ??= `${row.stage} ${row.code}: ${row.message}`;
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err = (err + chunk).slice(-4000)));
  const samples: MemorySample[] = [];
  const t0 = now();
  const take = (): void => {
    const tree = processTree(child.pid ?? -1);
    processes = Math.max(processes, tree.length);
    const rss = tree.map((pid) => ({ pid, mb: procRssMb(pid) })).filter((p) => Number.isFinite(p.mb));
    if (rss.length === 0) return;
    // The largest process (the one that decodes) whole, the others by their private pages: the
    // launcher's Node binary is the same file the child maps, resident once.
    const largest = rss.reduce((a, p) => (p.mb > a.mb ? p : a));
    const others = sum(rss.filter((p) => p !== largest).map((p) => procPrivateMb(p.pid)));
    // What a sample every second misses, the kernel kept: the decoding process's own high-water mark.
    const hwm = procStatusMb(largest.pid, 'VmHWM');
    if (Number.isFinite(hwm)) peakHwmMb = Math.max(peakHwmMb, hwm + others);
    samples.push({
      t: (now() - t0) / 1000,
      rssMb: largest.mb + others,
      rssSumMb: sum(rss.map((p) => p.mb)),
      heapUsedMb: Number.NaN,
      externalMb: Number.NaN,
      done,
      serverRssMb: procRssMb(job.serverPid),
    });
  };
  const sampler = setInterval(take, 1000);
  const progress = setInterval(() => onLine(`   ${done} of ${job.images}`), 30_000);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      // 'close', not 'exit': every result line has been read by then.
      child.once('close', resolve);
    });
    if (code !== 0 && code !== 2) throw new Error(`athena-rx classify exited with ${String(code)}: ${err}`);
  } finally {
    clearInterval(sampler);
    clearInterval(progress);
    await rm(dir, { recursive: true, force: true });
  }
  const wallS = (now() - t0) / 1000;
  if (samples.length === 0) throw new Error('athena-rx classify ended before its memory was sampled');
  const half = samples.filter((s) => s.t >= samples[samples.length - 1]!.t / 2);
  // The peak is the larger of the samples and the high-water mark (the child's, plus the launcher's
  // private pages at that sample), so a spike between two samples is not missed.
  const peak = Math.max(peakHwmMb, ...samples.map((s) => s.rssMb));
  const server = samples.map((s) => s.serverRssMb).filter(Number.isFinite);
  return {
    settings: { mode: 'exact', inFlight: variant.inFlight, quality: DEFAULT_BROTLI_QUALITY },
    images: job.images,
    wallS,
    imagesPerSecond: done / wallS,
    samples,
    peakRssMb: peak,
    peakHeapMb: Number.NaN,
    rssSlopeMbPerMin: slope(
      half.map((s) => s.t / 60),
      half.map((s) => s.rssMb),
    ),
    heapSlopeMbPerMin: Number.NaN,
    rssMidMb: (half[0] ?? samples[0]!).rssMb,
    rssEndMb: samples[samples.length - 1]!.rssMb,
    serverPeakRssMb: server.length === 0 ? Number.NaN : Math.max(...server),
    tally: { ok: done - failed, failed, ...(firstFailure === undefined ? {} : { firstFailure }) },
    processes,
    peakRssSumMb: Math.max(...samples.map((s) => s.rssSumMb ?? Number.NaN)),
  };
}
