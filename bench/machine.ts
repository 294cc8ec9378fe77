import { execFileSync } from 'node:child_process';
import { cpus, freemem, loadavg, totalmem, type as osType, release } from 'node:os';
import sharp from 'sharp';

/** Where and with what the benchmark ran. */
export interface MachineInfo {
  readonly date: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly totalMemGb: number;
  readonly freeMemGb: number;
  readonly os: string;
  readonly node: string;
  readonly sharp: string;
  readonly libvips: string;
  readonly sharpConcurrency: number;
  readonly sharpCache: string;
  readonly simd: boolean;
  readonly uvThreadpoolSize: string;
  /** The commit measured, and the source files that differed from it (the benchmark runs `src/` as it is). */
  readonly revision: string;
}

const GB = 1024 ** 3;

export function machineInfo(repoRoot: string): MachineInfo {
  const list = cpus();
  const cache = sharp.cache();
  return {
    date: new Date().toISOString(),
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    totalMemGb: totalmem() / GB,
    freeMemGb: freemem() / GB,
    os: `${osType()} ${release()}`,
    node: process.version,
    sharp: sharp.versions.sharp ?? 'unknown',
    libvips: sharp.versions.vips,
    sharpConcurrency: sharp.concurrency(),
    sharpCache: `${cache.items.max} items / ${cache.memory.max} MB / ${cache.files.max} files`,
    simd: sharp.simd(),
    uvThreadpoolSize: process.env['UV_THREADPOOL_SIZE'] ?? '4 (default, unset)',
    revision: revision(repoRoot),
  };
}

function revision(repoRoot: string): string {
  const git = (...args: string[]): string =>
    execFileSync('git', args, {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  try {
    const head = git('log', '-1', '--format=%h %s');
    const dirty = git('status', '--porcelain', '--', 'src')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.slice(3));
    return dirty.length === 0 ? head : `${head}; not yet committed under src/: ${dirty.join(', ')}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

/** The 1, 5 and 15 minute load averages, as `/proc/loadavg` shows them. */
export function loadAverage(): string {
  return loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');
}
