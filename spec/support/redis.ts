/**
 * A real `redis-server` for the queue specs: started on a free loopback port with no persistence
 * (`--save "" --appendonly no`) in a temporary folder, stopped afterwards. Where redis-server is
 * missing the specs are skipped on a developer's machine and fail in CI (`CI` set).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { freeLoopbackPort } from './http-server.js';

const live = new Set<ChildProcess>();
let hooked = false;

/** Whether the specs that need Redis run: always in CI (they fail there when it is missing). */
export function redisSpecsRun(): boolean {
  if (process.env['CI']) return true;
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export interface RedisProcess {
  readonly port: number;
  /** `redis://127.0.0.1:PORT`. */
  readonly url: string;
  /** `INFO commandstats`: calls by command name (lower case). */
  commandCalls(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** One command over a raw socket (RESP inline), resolving with the raw reply text. */
function rawCommand(port: number, command: string, password?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = tcpConnect({ host: '127.0.0.1', port }, () => {
      if (password) socket.write(`AUTH ${password}\r\n`);
      socket.write(`${command}\r\nQUIT\r\n`);
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.once('close', () => resolve(text));
    socket.once('error', reject);
    socket.setTimeout(5_000, () => socket.destroy(new Error('redis did not answer')));
  });
}

/** Starts redis-server; `password` sets `requirepass`. Rejects (never skips) when it cannot start. */
export async function startRedis(options: { password?: string } = {}): Promise<RedisProcess> {
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const child of live) child.kill('SIGKILL');
    });
  }
  const dir = mkdtempSync(join(tmpdir(), 'athena-redis-'));
  const port = await freeLoopbackPort();
  const args = [
    '--save',
    '',
    '--appendonly',
    'no',
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
  ];
  if (options.password) args.push('--requirepass', options.password);
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(new Error(`redis-server cannot start: ${error.message}`)));
    child.once('exit', (code) =>
      reject(new Error(`redis-server exited with ${code}: ${output.slice(-500)}`)),
    );
  });
  failed.catch(() => undefined);
  const deadline = Date.now() + 15_000;
  for (let tries = 0; tries < 300; tries++) {
    await Promise.race([failed, new Promise((r) => setTimeout(r, 50))]);
    if (await reachable(port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('redis-server did not listen within 15 s');
    }
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async commandCalls() {
      const text = await rawCommand(port, 'INFO commandstats', options.password);
      const calls: Record<string, number> = {};
      for (const match of text.matchAll(/cmdstat_([a-z|_-]+):calls=(\d+)/g))
        calls[match[1] as string] = Number(match[2]);
      return calls;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      }
      live.delete(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `describe` for specs on a real Redis: runs them where redis-server is installed and always in CI
 * (where `startRedis` then fails loudly when it is missing); elsewhere they are skipped.
 */
export const describeWithRedis: typeof describe = (
  redisSpecsRun() ? describe : describe.skip
) as typeof describe;

/** `n` small distinct JPEGs (24x24, colours from the index) in `dir`; resolves to their paths in order. */
export async function writeTinyJpegs(dir: string, n: number): Promise<string[]> {
  const { default: sharp } = await import('sharp');
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    const path = join(dir, `img-${String(i).padStart(5, '0')}.jpg`);
    await sharp({
      create: {
        width: 24,
        height: 24,
        channels: 3,
        background: { r: i % 256, g: (i * 7) % 256, b: (i * 13) % 256 },
      },
    })
      .jpeg({ quality: 80 })
      .toFile(path);
    paths.push(path);
  }
  return paths;
}
