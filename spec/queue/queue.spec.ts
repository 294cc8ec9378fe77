import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { firstValueFrom, lastValueFrom, Subject, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue, results, work, type RunEvent, type WorkerEvent } from '../../src/queue/index.js';
import { startAthenaServer, type AthenaServer } from '../../src/testing/server.js';
import { AthenaClient } from '../../src/transport/AthenaClient.js';
import { describeWithRedis, startRedis, writeTinyJpegs, type RedisProcess } from '../support/redis.js';

describeWithRedis('queue over a real Redis (one worker in this process)', () => {
  let redis: RedisProcess;
  let server: AthenaServer;
  let client: AthenaClient;
  let dir: string;
  let images: string[];

  beforeAll(async () => {
    redis = await startRedis();
    server = await startAthenaServer();
    client = new AthenaClient({ address: server.address, insecure: true });
    dir = mkdtempSync(join(tmpdir(), 'athena-queue-'));
    images = await writeTinyJpegs(dir, 25);
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await server?.close();
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const worker = (extra: Partial<Parameters<typeof work>[0]> = {}) =>
    work({
      redis: redis.url,
      client,
      affiliate: 'spec',
      chunks: 2,
      concurrency: 2,
      untilIdle: true,
      ...extra,
    });

  it('enqueues refs in chunks once: enqueueing the same run again adds no job', async () => {
    const options = { redis: redis.url, run: 'twice', inputs: [dir], chunkSize: 10, queue: 'twice' };
    const first = await firstValueFrom(enqueue(options));
    expect(first).toEqual({ run: 'twice', refs: 25, chunks: 3, added: 3 });
    const queue = new Queue('twice', { connection: { host: '127.0.0.1', port: redis.port } });
    try {
      const ids = (await queue.getJobs(['waiting'])).map((job) => job.id).sort();
      expect(ids).toEqual(['twice/0', 'twice/1', 'twice/2']);
      const jobs = await Promise.all(ids.map((id) => queue.getJob(id as string)));
      expect(jobs.map((job) => job?.data.refs.length)).toEqual([10, 10, 5]);
      expect(jobs.flatMap((job) => job?.data.refs as string[]).sort()).toEqual(images);
      const again = await firstValueFrom(enqueue(options));
      expect(again).toEqual({ run: 'twice', refs: 25, chunks: 3, added: 0 });
      expect(await queue.getWaitingCount()).toBe(3);
    } finally {
      await queue.close();
    }
  }, 30_000);

  it('classifies every ref once, and results follow the run to completion', async () => {
    const before = server.counters.inputs;
    await firstValueFrom(enqueue({ redis: redis.url, run: 'one', inputs: images, chunkSize: 10 }));
    const following = lastValueFrom(results({ redis: redis.url, run: 'one', blockMs: 100 }).pipe(toArray()));
    const events = await lastValueFrom(worker().pipe(toArray()));
    const seen = await following;

    const outcomes = seen.filter((e): e is Extract<RunEvent, { kind: 'outcome' }> => e.kind === 'outcome');
    expect(outcomes.map((e) => e.outcome.ref).sort()).toEqual(images);
    expect(outcomes.every((e) => e.outcome.ok)).toBe(true);
    expect(seen.at(-1)?.progress).toMatchObject({
      total: 25,
      done: 25,
      failed: 0,
      pending: 0,
      complete: true,
    });
    const recorded = events.filter((e) => e.kind === 'outcome');
    expect(recorded).toHaveLength(25);
    expect(
      events
        .filter((e) => e.kind === 'chunk-done')
        .map((e) => (e as { chunk: number }).chunk)
        .sort(),
    ).toEqual([0, 1, 2]);
    expect(server.counters.inputs - before).toBe(25);

    // Read again after the fact, without following: the same outcomes, each once.
    const again = await lastValueFrom(
      results({ redis: redis.url, run: 'one', follow: false }).pipe(toArray()),
    );
    expect(again.filter((e) => e.kind === 'outcome')).toHaveLength(25);
    expect(again.at(-1)?.progress.complete).toBe(true);
  }, 60_000);

  it('a worker started after the run finished takes nothing and sends nothing', async () => {
    const before = server.counters.inputs;
    const events = await lastValueFrom(worker().pipe(toArray()));
    expect(events.map((e) => e.kind)).toEqual(['started']);
    expect(server.counters.inputs).toBe(before);
  }, 30_000);

  it('a re-delivered chunk skips refs that have their outcome', async () => {
    await firstValueFrom(
      enqueue({ redis: redis.url, run: 'redo', inputs: images.slice(0, 5), chunkSize: 5 }),
    );
    await lastValueFrom(worker());
    const before = server.counters.inputs;
    // The same chunk again, as a lapsed lease would bring it back, with one new ref.
    const queue = new Queue('athena-rx', { connection: { host: '127.0.0.1', port: redis.port } });
    await queue.add('chunk', { run: 'redo', chunk: 0, refs: images.slice(0, 6) }, { jobId: 'redo/0-again' });
    await queue.close();
    const events = await lastValueFrom(worker().pipe(toArray()));
    expect(events.find((e) => e.kind === 'chunk')).toMatchObject({ refs: 6, todo: 1 });
    expect(server.counters.inputs - before).toBe(1);
  }, 30_000);

  it('a chunk whose storage is gone fails for good: a dead letter, and a transport failure for each ref', async () => {
    const gone = join(dir, 'unmounted');
    const refs = [join(gone, 'a.jpg'), join(gone, 'b.jpg')];
    await firstValueFrom(
      enqueue({ redis: redis.url, run: 'dead', inputs: refs, attempts: 2, backoffMs: 10 }),
    );
    const stop = new Subject<void>();
    const events: WorkerEvent[] = [];
    const running = lastValueFrom(worker({ untilIdle: false, stop }).pipe(toArray())).then((e) =>
      events.push(...e),
    );
    const seen = await lastValueFrom(
      results({ redis: redis.url, run: 'dead', blockMs: 100 }).pipe(toArray()),
    );
    stop.next();
    await running;

    const dead = seen.find((e) => e.kind === 'dead-letter');
    expect(dead).toMatchObject({ kind: 'dead-letter', chunk: 0, error: { code: 'READ_FAILED' } });
    const outcomes = seen.flatMap((e) => (e.kind === 'outcome' ? [e.outcome] : []));
    expect(outcomes.map((o) => o.ref).sort()).toEqual(refs);
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({ ok: false, stage: 'transport', error: { code: 'CHUNK_FAILED' } });
    }
    expect(seen.at(-1)?.progress).toMatchObject({ total: 2, failed: 2, deadLetters: 1, complete: true });
    expect(events.filter((e) => e.kind === 'chunk-failed').map((e) => (e as { last: boolean }).last)).toEqual(
      [false, true],
    );
    const queue = new Queue('athena-rx', { connection: { host: '127.0.0.1', port: redis.port } });
    expect((await queue.getFailed()).map((job) => job.id)).toContain('dead/0');
    await queue.close();
  }, 30_000);

  it('an invalid payload fails at once, without retries, and its refs still get their outcome', async () => {
    const queue = new Queue('athena-rx', { connection: { host: '127.0.0.1', port: redis.port } });
    await queue.add('chunk', { run: 'bad', chunk: 'x', refs: [images[0]] }, { jobId: 'bad/0', attempts: 5 });
    await queue.close();
    const events = await lastValueFrom(worker().pipe(toArray()));
    expect(events.filter((e) => e.kind === 'chunk-failed')).toHaveLength(1);
    expect(events.find((e) => e.kind === 'dead-letter')).toMatchObject({ run: 'bad', refs: 1 });
    const seen = await lastValueFrom(
      results({ redis: redis.url, run: 'bad', follow: false }).pipe(toArray()),
    );
    expect(seen.flatMap((e) => (e.kind === 'outcome' ? [e.outcome] : []))).toMatchObject([
      { ref: images[0], ok: false, stage: 'transport', error: { code: 'CHUNK_FAILED' } },
    ]);
  }, 30_000);
});

describe('queue arguments', () => {
  it('are checked when the function is called', () => {
    expect(() => enqueue({ redis: 'redis://127.0.0.1:1', run: 'a:b', inputs: [] })).toThrow(RangeError);
    expect(() => enqueue({ redis: 'redis://127.0.0.1:1', run: 'r', inputs: [], chunkSize: 0 })).toThrow(
      RangeError,
    );
    expect(() => results({ redis: 42 as unknown as string, run: 'r' })).toThrow(TypeError);
    expect(() => work({ redis: 'redis://127.0.0.1:1', client: {} as AthenaClient, affiliate: 'a' })).toThrow(
      TypeError,
    );
  });
});
