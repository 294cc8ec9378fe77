/**
 * The embedded server in a child `node` process (`athena-rx serve`, run from source with tsx), for
 * tests of what a client does when its server process dies, freezes or restarts: SIGKILL, SIGSTOP /
 * SIGCONT, a graceful SIGTERM stop, and a restart on the same port. Every wait is bounded, and every
 * child is killed when the test process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { type AthenaFaults } from '../../src/testing/faults.js';

const root = new URL('../..', import.meta.url).pathname;
const main = join(root, 'src/cli/main.ts');
const live = new Set<ChildProcess>();
let hooked = false;

/** What to start the child with. */
export interface ChildServerOptions {
  /** Faults active from the start (JSON-able: no `globalError.when`). */
  readonly faults?: AthenaFaults;
  /** More `serve` flags, e.g. `['--token', 't']`. */
  readonly args?: readonly string[];
  /** Longest wait for the child to listen, in ms. Default 30 s (tsx compiles on a busy machine). */
  readonly startTimeoutMs?: number;
}

/** A server process; `address` and `port` stay the same across restarts. */
export interface ChildServer {
  readonly address: string;
  readonly port: number;
  /** Pid of the current process. */
  readonly pid: number;
  /** What the current process printed so far. */
  readonly output: () => string;
  /** Sends `signal` (default SIGKILL) and waits for the process to exit; resolves with its exit code. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  /** Freezes the process (SIGSTOP): its sockets stay open, nothing answers. */
  pause(): void;
  /** Thaws it (SIGCONT). */
  resume(): void;
  /** Graceful stop: SIGTERM (after SIGCONT), then SIGKILL if it has not exited within `timeoutMs`. */
  stop(timeoutMs?: number): Promise<number | null>;
  /** Stops the current process if running (SIGKILL) and starts a new one on the same port. */
  restart(options?: ChildServerOptions): Promise<void>;
}

/** Starts a child server on a free loopback port; resolves once it accepts connections. */
export async function startChildServer(options: ChildServerOptions = {}): Promise<ChildServer> {
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const child of live) child.kill('SIGKILL');
    });
  }
  let current = await spawnServe(0, options);
  const port = Number(/:(\d+)$/.exec(current.address)?.[1]);
  const exitOf = (child: ChildProcess, timeoutMs: number): Promise<number | null> =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve(child.exitCode)
      : bounded(
          new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))),
          timeoutMs,
          'child server did not exit',
        );
  const kill = (signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> => {
    current.child.kill(signal);
    return exitOf(current.child, 10_000);
  };
  return {
    address: current.address,
    port,
    get pid() {
      return current.child.pid ?? -1;
    },
    output: () => current.output.join(''),
    kill,
    pause: () => void current.child.kill('SIGSTOP'),
    resume: () => void current.child.kill('SIGCONT'),
    stop: async (timeoutMs = 10_000) => {
      current.child.kill('SIGCONT');
      current.child.kill('SIGTERM');
      try {
        return await exitOf(current.child, timeoutMs);
      } catch {
        return kill('SIGKILL');
      }
    },
    restart: async (next = options) => {
      if (current.child.exitCode === null && current.child.signalCode === null) await kill('SIGKILL');
      current = await spawnServe(port, next);
    },
  };
}

interface Spawned {
  readonly child: ChildProcess;
  readonly address: string;
  readonly output: string[];
}

async function spawnServe(port: number, options: ChildServerOptions): Promise<Spawned> {
  const args = ['--import', 'tsx', main, 'serve', '--host', '127.0.0.1', '--port', String(port)];
  if (options.faults !== undefined) args.push('--faults', JSON.stringify(options.faults));
  const child = spawn(process.execPath, [...args, ...(options.args ?? [])], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const output: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => void output.push(chunk.toString()));
  const address = await bounded(
    new Promise<string>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        output.push(chunk.toString());
        const match = /listening on (\S+)/.exec(output.join(''));
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${output.join('')}`)));
    }),
    options.startTimeoutMs ?? 30_000,
    'child server did not start listening',
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  await accepts(address, 5_000);
  return { child, address, output };
}

/** Resolves once a TCP connection to `address` succeeds; rejects after `timeoutMs`. */
async function accepts(address: string, timeoutMs: number): Promise<void> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    Number(address.slice(address.lastIndexOf(':') + 1)),
  ];
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 200; attempt++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect({ host, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`nothing accepts connections on ${address}`);
}

function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
