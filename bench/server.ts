import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scriptArgs } from './paths.js';

/** The embedded server running in a separate process. */
export interface ServerProcess {
  readonly address: string;
  readonly pid: number;
  /** How it was started: the built CLI (`athena-rx serve`) or `bench/server-process.ts`. */
  readonly how: string;
  /** CPU time (user + system) the server process has used so far, in ms (Linux /proc; NaN elsewhere). */
  cpuMs(): number;
  /** Resident set size of the server process in MB (Linux /proc; NaN elsewhere). */
  rssMb(): number;
  stop(): Promise<void>;
}

const LISTENING = /listening on (\S+)/;

/**
 * Starts the server in a child process: `node dist/cli/main.js serve --port 0` when the CLI is built
 * and `prefer` is `'cli'`, otherwise (or when the CLI does not come up) `bench/server-process`.
 */
export async function startServerProcess(
  repoRoot: string,
  prefer: 'cli' | 'process',
): Promise<ServerProcess> {
  const cli = join(repoRoot, 'dist', 'cli', 'main.js');
  if (prefer === 'cli' && existsSync(cli)) {
    try {
      return await launch(process.execPath, [cli, 'serve', '--port', '0'], 'athena-rx serve (dist/cli)');
    } catch {
      // fall through to the bench's own entry
    }
  }
  return launch(
    process.execPath,
    scriptArgs('server-process'),
    'startAthenaServer (bench/server-process)',
    repoRoot,
  );
}

function launch(command: string, args: string[], how: string, cwd?: string): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error(`${how}: no address after 20 s`)), 20_000);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}\n${err.slice(-2000)}`));
    };
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`${how} exited with ${String(code)}`)));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = LISTENING.exec(out);
      if (match === null) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.stdout.removeAllListeners('data');
      child.stdout.resume();
      resolve(handle(child, match[1]!, how));
    });
  });
}

function handle(child: ChildProcess, address: string, how: string): ServerProcess {
  const pid = child.pid ?? -1;
  return {
    address,
    pid,
    how,
    cpuMs: () => procCpuMs(pid),
    rssMb: () => procRssMb(pid),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size of a process in MB (Linux /proc; NaN elsewhere). */
export function procRssMb(pid: number): number {
  return procStatusMb(pid, 'VmRSS');
}

/** A size field of a process's /proc status (`VmRSS`, `VmHWM`: the most RSS so far) in MB; NaN elsewhere. */
export function procStatusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
    return match === null ? Number.NaN : Number(match[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}
