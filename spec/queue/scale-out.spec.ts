/**
 * The scale-out proof: the embedded server in its own process, one enqueue of 2,000 generated
 * images, three worker processes (the built CLI), one of them SIGKILLed mid-run. Every ref ends
 * with exactly one outcome, the dead worker's chunks are finished by the others, and the server's
 * counters show how many images were sent twice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { firstValueFrom, lastValueFrom, tap, toArray } from 'rxjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { enqueue, results, runKeys } from '../../src/queue/index.js';
import { startChildServer, type ChildServer } from '../support/child-server.js';
import { describeWithRedis, startRedis, writeTinyJpegs, type RedisProcess } from '../support/redis.js';

const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'dist/cli/main.js');
const IMAGES = 2000;
const RUN = 'scale-out';

interface WorkerProcess {
  readonly child: ChildProcess;
  readonly log: () => string;
}

function startWorker(redis: string, address: string): WorkerProcess {
  const args = [
    bin, 'worker', '--redis', redis, '--address', address, '--insecure', '--affiliate', 'spec',
    '--chunks', '2', '--concurrency', '1', '--quality', '1', '--until-idle',
    '--lock-duration', '2000', '--stalled-interval', '1000',
  ]; // prettier-ignore
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  return { child, log: () => log };
}

/** Chunk numbers of a worker's log lines `chunk RUN/N: <what>`. */
function chunksIn(log: string, what: RegExp): number[] {
  return [...log.matchAll(/^chunk [^/\s]+\/(\d+): (.*)$/gm)]
    .filter((m) => what.test(m[2] ?? ''))
    .map((m) => Number(m[1]));
}

function exited(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('worker did not exit')), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

async function serverCounters(server: ChildServer): Promise<{ inputs: number }> {
  const before = server.output().length;
  process.kill(server.pid, 'SIGUSR1');
  for (let i = 0; i < 100; i++) {
    const match = /counters (\{.*\})/.exec(server.output().slice(before));
    if (match?.[1]) return JSON.parse(match[1]) as { inputs: number };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the server printed no counters');
}

describeWithRedis('scale-out over three worker processes', () => {
  let redis: RedisProcess;
  let server: ChildServer;
  let dir: string;
  let images: string[];
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    expect(existsSync(bin), 'the CLI is built (npm run build)').toBe(true);
    [redis, server] = await Promise.all([startRedis(), startChildServer()]);
    dir = mkdtempSync(join(tmpdir(), 'athena-scale-'));
    images = await writeTinyJpegs(dir, IMAGES);
  }, 120_000);

  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await server?.stop();
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives every ref exactly one outcome when a worker is killed mid-run', async () => {
    const report = await firstValueFrom(
      enqueue({ redis: redis.url, run: RUN, inputs: [dir], chunkSize: 50 }),
    );
    expect(report).toEqual({ run: RUN, refs: IMAGES, chunks: 40, added: 40 });

    for (let i = 0; i < 3; i++) workers.push(startWorker(redis.url, server.address));
    const [victim, ...survivors] = workers as [WorkerProcess, WorkerProcess, WorkerProcess];
    let killedAt: { taken: number[]; done: number[] } | undefined;
    const events = await lastValueFrom(
      results({ redis: redis.url, run: RUN, blockMs: 200 }).pipe(
        tap(() => {
          // Killed once it finished two chunks and holds more: those are left mid-way.
          if (killedAt !== undefined || chunksIn(victim.log(), /recorded/).length < 2) return;
          victim.child.kill('SIGKILL');
          killedAt = { taken: chunksIn(victim.log(), /taken/), done: chunksIn(victim.log(), /recorded/) };
        }),
        toArray(),
      ),
    );
    expect(killedAt, 'the victim was killed before the run ended').toBeDefined();
    const codes = await Promise.all(survivors.map((w) => exited(w.child, 30_000)));
    expect(codes).toEqual([0, 0]);

    // Every ref exactly one outcome, and none recorded twice.
    const outcomes = events.flatMap((e) => (e.kind === 'outcome' ? [e.outcome] : []));
    expect(outcomes.map((o) => o.ref).sort()).toEqual(images);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(events.at(-1)?.progress).toMatchObject({
      total: IMAGES,
      done: IMAGES,
      pending: 0,
      complete: true,
    });
    const keys = runKeys(RUN);
    const client = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true });
    await client.connect();
    expect(await client.hlen(keys.outcomes)).toBe(IMAGES);
    expect(await client.xlen(keys.stream)).toBe(IMAGES);
    client.disconnect();

    // The chunks the victim held at its death were taken and finished by the survivors.
    const held = (killedAt?.taken ?? []).filter((c) => !killedAt?.done.includes(c));
    expect(held.length).toBeGreaterThan(0);
    const survivorLog = survivors.map((w) => w.log()).join('');
    const retaken = new Map<number, number>();
    for (const m of survivorLog.matchAll(/^chunk [^/\s]+\/(\d+): taken, (\d+) of (\d+) refs to do$/gm)) {
      if (held.includes(Number(m[1]))) retaken.set(Number(m[1]), Number(m[2]));
    }
    expect([...retaken.keys()].sort()).toEqual([...held].sort());
    for (const chunk of held) expect(chunksIn(survivorLog, /recorded/)).toContain(chunk);

    // Only images in flight at the kill went twice: at most the held chunks' refs left to do.
    const { inputs } = await serverCounters(server);
    const sentTwice = inputs - IMAGES;
    const leftToDo = [...retaken.values()].reduce((a, b) => a + b, 0);
    expect(
      sentTwice,
      `${sentTwice} sent twice, ${leftToDo} left to do in ${held.length} held chunks`,
    ).toBeGreaterThanOrEqual(0);
    expect(sentTwice).toBeLessThanOrEqual(leftToDo);
    process.stdout.write(
      `scale-out: killed a worker holding chunks ${held.join(', ')}; ${sentTwice} images sent twice\n`,
    );
  }, 120_000);
});
