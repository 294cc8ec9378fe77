/**
 * `enqueue`: a run's inputs (files, directories, URLs) as chunk jobs of references in BullMQ, with
 * idempotent job ids, so that enqueueing the same run again adds nothing.
 */
import { stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { Queue } from 'bullmq';
import { catchError, concatMap, defer, finalize, from, type Observable, reduce, switchMap } from 'rxjs';
import { AthenaError } from '../errors.js';
import { assertBoolean, assertInteger } from '../internal/core/validate.js';
import { walk } from '../internal/input/walk.js';
import { DEFAULT_IMAGE_EXTENSIONS } from '../sources/fromDirectory.js';
import { bullConnection, openRedis, redisError, redisTarget } from './connection.js';
import type { QueueConnectionOptions } from './options.js';
import {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_QUEUE,
  isUrl,
  jobId,
  runKeys,
  validateQueueName,
  validateRun,
} from './keys.js';
import { chunkRefs } from './progress.js';

export interface EnqueueOptions extends QueueConnectionOptions {
  /** The run's id: job ids and Redis keys are named by it. */
  readonly run: string;
  /** Files, directories (walked for image files) and http(s) URLs. */
  readonly inputs: Iterable<string> | AsyncIterable<string>;
  /** Refs per job. Default 100. */
  readonly chunkSize?: number;
  /** Walk directories recursively. Default true. */
  readonly recursive?: boolean;
  /** Tries of a chunk before it goes to the failed set (a dead letter). Default 3. */
  readonly attempts?: number;
  /** First retry delay of a failed chunk in ms, doubled each time. Default 1000. */
  readonly backoffMs?: number;
}

/** What an enqueue did. */
export interface EnqueueReport {
  readonly run: string;
  readonly refs: number;
  readonly chunks: number;
  /** Chunks added by this call: 0 when the run was enqueued before. */
  readonly added: number;
}

/** Inputs as refs: directories walked, files made absolute, URLs as given. */
async function* expand(inputs: Iterable<string> | AsyncIterable<string>, recursive: boolean) {
  const wanted = new Set(DEFAULT_IMAGE_EXTENSIONS.map((e) => e.toLowerCase()));
  for await (const input of inputs) {
    if (typeof input !== 'string' || input === '') throw new TypeError('inputs must be non-empty strings');
    if (isUrl(input)) {
      yield input;
      continue;
    }
    const isDir = await stat(input).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir) {
      yield resolve(input);
      continue;
    }
    const accept = (name: string): boolean => wanted.has(extname(name).toLowerCase());
    for await (const entry of walk(resolve(input), { recursive, followSymlinks: false, accept })) {
      if (entry.error !== undefined) {
        throw new AthenaError('READ_FAILED', `cannot read the folder ${entry.path}`, { cause: entry.error });
      }
      yield entry.path;
    }
  }
}

/**
 * Adds a run's chunk jobs (ids `<run>/<chunk>`) and records its total; emits one
 * {@link EnqueueReport} and completes. Chunks the run already holds are not added again.
 *
 * @example
 * ```ts
 * import { enqueue } from 'athena-rx/queue';
 *
 * enqueue({ redis: 'redis://127.0.0.1:6379', run: 'inbox-2026-12-03', inputs: ['/mnt/share/inbox'] })
 *   .subscribe((r) => console.log(`${r.refs} refs, ${r.added} chunks added`));
 * ```
 */
export function enqueue(options: EnqueueOptions): Observable<EnqueueReport> {
  const run = validateRun(options.run);
  const target = redisTarget(options.redis, options.tls);
  const queueName = validateQueueName(options.queue ?? DEFAULT_QUEUE);
  const size = assertInteger('chunkSize', options.chunkSize ?? DEFAULT_CHUNK_SIZE, 1, 10_000);
  const recursive = assertBoolean('recursive', options.recursive ?? true);
  const attempts = assertInteger('attempts', options.attempts ?? 3, 1, 100);
  const backoffMs = assertInteger('backoffMs', options.backoffMs ?? 1000, 0, 3_600_000);
  const inputs = options.inputs;
  if (inputs === null || typeof inputs !== 'object' || typeof inputs === 'string') {
    throw new TypeError('inputs must be an iterable of strings');
  }
  const keys = runKeys(run);
  return defer(async () => {
    const redis = await openRedis(target, 'athena-rx:enqueue');
    const queue = new Queue(queueName, { connection: bullConnection(target) });
    queue.on('error', () => undefined);
    return { redis, queue };
  }).pipe(
    switchMap(({ redis, queue }) => {
      const close = async (): Promise<void> => {
        await queue.close().catch(() => undefined);
        await redis.quit().catch(() => redis.disconnect());
      };
      const addChunk = async (index: number, refs: readonly string[]): Promise<number> => {
        if ((await redis.sismember(keys.chunks, String(index))) === 1) return 0;
        await queue.add(
          'chunk',
          { run, chunk: index, refs },
          {
            jobId: jobId(run, index),
            attempts,
            backoff: { type: 'exponential', delay: backoffMs },
            removeOnComplete: true,
            removeOnFail: false,
          },
        );
        return await redis.sadd(keys.chunks, String(index));
      };
      const counted = from(expand(inputs, recursive)).pipe(
        chunkRefs(size),
        concatMap(async (chunk) => ({
          refs: chunk.refs.length,
          added: await addChunk(chunk.index, chunk.refs),
        })),
        reduce(
          (acc, c) => ({ refs: acc.refs + c.refs, chunks: acc.chunks + 1, added: acc.added + c.added }),
          {
            refs: 0,
            chunks: 0,
            added: 0,
          },
        ),
        concatMap(async (counts) => {
          const before = await redis.hget(keys.meta, 'total');
          if (before !== null && Number(before) !== counts.refs) {
            throw new AthenaError(
              'INVALID_INPUT',
              `run ${run} was enqueued with ${before} refs; these inputs hold ${counts.refs}`,
            );
          }
          await redis.hset(keys.meta, { total: counts.refs, chunks: counts.chunks });
          return { run, ...counts };
        }),
      );
      return counted.pipe(
        catchError((error: unknown) => {
          throw error instanceof TypeError ? error : redisError(error, target, 'cannot enqueue');
        }),
        finalize(() => void close()),
      );
    }),
  );
}
