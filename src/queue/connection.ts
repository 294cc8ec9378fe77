/**
 * Redis connections of the queue: a `redis://` or `rediss://` URL turned into ioredis options
 * (TLS for `rediss://`), its password registered with the secrets scrubber, the URL's display form
 * without user info, and Redis errors wrapped as `REDIS_ERROR` with every secret scrubbed.
 */
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { RedisOptions as BullRedisOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { AthenaError, redactUrl } from '../errors.js';
import { registerSecret, scrubText } from '../internal/secrets/scrub.js';
import { assertString } from '../internal/core/validate.js';

/** Where the queue's Redis is: options for ioredis and BullMQ, and the URL fit for a message. */
export interface RedisTarget {
  readonly options: RedisOptions;
  /** The URL without user name and password. */
  readonly display: string;
}

/**
 * Parses a Redis URL (`redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS). The
 * password is registered as a secret, so no message of the library ever shows it. `tls` adds to
 * (or, for `redis://`, turns on) the TLS options, for a private CA for example.
 */
export function redisTarget(url: unknown, tls?: TlsOptions): RedisTarget {
  const text = assertString('redis', url);
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new TypeError(`redis must be a redis:// or rediss:// URL, got ${redactUrl(text)}`);
  }
  if (parsed.password !== '') {
    registerSecret(parsed.password);
    registerSecret(decodeURIComponent(parsed.password));
  }
  const display = redactUrl(parsed);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new TypeError(`redis must be a redis:// or rediss:// URL, got ${display}`);
  }
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,2}$/.test(db)) throw new RangeError(`the database of ${display} must be a number`);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const secure = parsed.protocol === 'rediss:' || tls !== undefined;
  const options: RedisOptions = {
    host,
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    ...(parsed.username === '' ? {} : { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password === '' ? {} : { password: decodeURIComponent(parsed.password) }),
    ...(db === '' ? {} : { db: Number(db) }),
    ...(secure ? { tls: { servername: host, ...tls } } : {}),
  };
  return { options, display };
}

/** Any Redis or BullMQ failure as `REDIS_ERROR`, naming the redacted URL, scrubbed of secrets. */
export function redisError(error: unknown, target: RedisTarget, doing: string): AthenaError {
  if (error instanceof AthenaError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const password = target.options.password;
  return new AthenaError('REDIS_ERROR', scrubText(`${doing} at ${target.display}: ${message}`, [password]));
}

/**
 * A command connection that gives up instead of queueing commands forever: a run that cannot
 * reach Redis fails with `REDIS_ERROR` after a few seconds.
 */
export async function openRedis(target: RedisTarget, name: string): Promise<Redis> {
  const client = new Redis({
    ...target.options,
    connectionName: name,
    lazyConnect: true,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 3,
    connectTimeout: 5_000,
    retryStrategy: (times) => (times > 5 ? null : Math.min(100 * 2 ** times, 2_000)),
  });
  // Failures reach the caller through the commands; an unhandled 'error' event would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw redisError(error, target, 'cannot connect to Redis');
  }
  return client;
}

/** Options BullMQ connects with: the target's, and the retries its blocking commands need. */
export function bullConnection(target: RedisTarget): BullRedisOptions {
  return { ...target.options, maxRetriesPerRequest: null } as BullRedisOptions;
}
