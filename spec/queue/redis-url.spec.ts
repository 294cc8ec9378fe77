import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, lastValueFrom, type Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import { enqueue, redisTarget, results, work } from '../../src/queue/index.js';
import { startAthenaServer, type AthenaServer } from '../../src/testing/server.js';
import { AthenaClient } from '../../src/transport/AthenaClient.js';
import { runCli } from '../support/cli.js';
import { describeWithRedis, startRedis, writeTinyJpegs, type RedisProcess } from '../support/redis.js';

const PASSWORD = 'Red1s-Pa55word-xyz';

/** The error an Observable ends with. */
async function errorOf(observable: Observable<unknown>): Promise<AthenaError> {
  try {
    await lastValueFrom(observable);
  } catch (error) {
    return error as AthenaError;
  }
  throw new Error('no error');
}

describe('redisTarget', () => {
  it('maps a redis URL to connection options, rediss:// to TLS, and shows it without user info', () => {
    const plain = redisTarget(`redis://user:${PASSWORD}@10.1.2.3:6380/2`);
    expect(plain.options).toEqual({
      host: '10.1.2.3',
      port: 6380,
      username: 'user',
      password: PASSWORD,
      db: 2,
    });
    expect(plain.display).toBe('redis://10.1.2.3:6380/2');
    const secure = redisTarget(`rediss://:${PASSWORD}@cache.example:6379`);
    expect(secure.options.tls).toEqual({ servername: 'cache.example' });
    expect(secure.display).not.toContain(PASSWORD);
  });

  it('refuses other URLs without showing their password', () => {
    for (const url of [`http://u:${PASSWORD}@host`, `redis://u:${PASSWORD}@host/x`, 'not a url']) {
      let message = '';
      try {
        redisTarget(url);
      } catch (error) {
        expect(error).toBeInstanceOf(error instanceof RangeError ? RangeError : TypeError);
        message = (error as Error).message;
      }
      expect(message).not.toBe('');
      expect(message).not.toContain(PASSWORD);
    }
  });
});

describeWithRedis('a Redis with a password', () => {
  let redis: RedisProcess;
  let server: AthenaServer;
  let client: AthenaClient;
  let dir: string;
  let good: string;
  let wrong: string;
  let closed: string;

  beforeAll(async () => {
    redis = await startRedis({ password: PASSWORD });
    server = await startAthenaServer();
    client = new AthenaClient({ address: server.address, insecure: true });
    dir = mkdtempSync(join(tmpdir(), 'athena-redis-url-'));
    await writeTinyJpegs(dir, 3);
    good = `redis://:${PASSWORD}@127.0.0.1:${redis.port}`;
    wrong = `redis://default:${PASSWORD}-not@127.0.0.1:${redis.port}`;
    // A port nothing listens on: the one of a server started and stopped.
    const gone = await startRedis();
    await gone.stop();
    closed = `redis://:${PASSWORD}@127.0.0.1:${gone.port}`;
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await server?.close();
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('works with the password, and fails with REDIS_ERROR naming no password otherwise', async () => {
    expect(await firstValueFrom(enqueue({ redis: good, run: 'pw', inputs: [dir] }))).toMatchObject({
      refs: 3,
    });
    const failures = [
      await errorOf(enqueue({ redis: wrong, run: 'pw', inputs: [dir] })),
      await errorOf(results({ redis: closed, run: 'pw' })),
      await errorOf(work({ redis: wrong, client, affiliate: 'spec', untilIdle: true })),
    ];
    for (const error of failures) {
      expect(error).toBeInstanceOf(AthenaError);
      expect(error.code).toBe('REDIS_ERROR');
      expect(error.message).toContain('127.0.0.1');
      expect(`${error.message} ${error.details ?? ''} ${String(error.cause ?? '')}`).not.toContain(PASSWORD);
      expect(error.message).not.toContain(PASSWORD.slice(0, 8));
    }
  }, 60_000);

  it('the CLI: results as JSON lines with exit code 0, and errors without the password', async () => {
    await lastValueFrom(work({ redis: good, client, affiliate: 'spec', untilIdle: true, concurrency: 1 }));
    const shown = await runCli(['results', '--run', 'pw', '--format', 'jsonl'], { ATHENA_REDIS_URL: good });
    expect(shown.code, shown.stderr).toBe(0);
    const lines = shown.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { ref: string; ok: boolean });
    expect(lines.map((l) => l.ok)).toEqual([true, true, true]);
    expect(shown.stderr).toContain('3 images: 3 classified, 0 failed');

    const runs = await Promise.all([
      runCli(['enqueue', '--redis', wrong, '--run', 'pw', dir]),
      runCli(['results', '--redis', closed, '--run', 'pw']),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('REDIS_ERROR');
      expect(run.stderr + run.stdout).not.toContain(PASSWORD);
    }
  }, 90_000);
});
