/**
 * `results`: a run's outcomes as they land, read from the run's Redis stream, with progress (done,
 * failed, pending, workers alive, dead letters) and completion once every ref has its outcome.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Observable } from 'rxjs';
import { AthenaError } from '../errors.js';
import { assertBoolean, assertInteger } from '../internal/core/validate.js';
import { bullConnection, openRedis, redisError, redisTarget } from './connection.js';
import { DEFAULT_QUEUE, outcomeOf, runKeys, validateQueueName, validateRun } from './keys.js';
import type { QueueConnectionOptions } from './options.js';
import { accountRun, type RunEvent, type RunSignal } from './progress.js';

export interface ResultsOptions extends QueueConnectionOptions {
  readonly run: string;
  /** Keep reading until the run is complete. Default true; false stops once what is there was read. */
  readonly follow?: boolean;
  /** Longest wait of one blocking read while following, in ms. Default 1000. */
  readonly blockMs?: number;
  /** How often workers are counted, in ms. Default 2000. */
  readonly workersEveryMs?: number;
}

type StreamReply = [string, [string, string[]][]][] | null;

/** The signal of one stream entry (`ref`/`record`, or `dead`/`error`). */
function signalOf(fields: readonly string[]): RunSignal | undefined {
  const field = (name: string): string | undefined => {
    const at = fields.indexOf(name);
    return at >= 0 && at % 2 === 0 ? fields[at + 1] : undefined;
  };
  const record = field('record');
  if (record !== undefined) return { kind: 'outcome', outcome: outcomeOf(record) };
  const dead = field('dead');
  if (dead === undefined) return undefined;
  const { code, message } = JSON.parse(field('error') ?? '{}') as { code?: string; message?: string };
  const error = new AthenaError((code ?? 'UNKNOWN') as AthenaError['code'], message ?? '');
  return { kind: 'dead-letter', chunk: Number(dead), error };
}

/**
 * The run's outcomes, each once, with progress; completes when every ref has its outcome (or,
 * without `follow`, once the stream is read to its end). The run's total is known once its enqueue
 * finished; until then `pending` is undefined. Errors with `REDIS_ERROR`.
 *
 * ```text
 * stream:  -o-o--d-o-o|        o outcome, d dead letter (its refs' failures follow as o)
 * result:  po-o--d-o-(o|)      p progress with the total; completes at the last ref's outcome
 * ```
 *
 * @example
 * ```ts
 * import { results } from 'athena-rx/queue';
 *
 * results({ redis: 'redis://127.0.0.1:6379', run: 'inbox' }).subscribe((e) => {
 *   if (e.kind === 'outcome') console.log(e.outcome.ref, e.progress.pending);
 * });
 * ```
 */
export function results(options: ResultsOptions): Observable<RunEvent> {
  const run = validateRun(options.run);
  const target = redisTarget(options.redis, options.tls);
  const queueName = validateQueueName(options.queue ?? DEFAULT_QUEUE);
  const follow = assertBoolean('follow', options.follow ?? true);
  const blockMs = assertInteger('blockMs', options.blockMs ?? 1000, 1, 60_000);
  const workersEveryMs = assertInteger('workersEveryMs', options.workersEveryMs ?? 2000, 1, 3_600_000);
  const keys = runKeys(run);

  const signals = new Observable<RunSignal>((subscriber) => {
    let stopped = false;
    let redis: Redis | undefined;
    let queue: Queue | undefined;
    const read = async (): Promise<void> => {
      redis = await openRedis(target, 'athena-rx:results');
      queue = new Queue(queueName, { connection: bullConnection(target) });
      queue.on('error', () => undefined);
      let total: number | undefined;
      let workersAt = Number.NEGATIVE_INFINITY;
      let lastId = '0';
      while (!stopped) {
        const stored = await redis.hget(keys.meta, 'total');
        if (stored !== null && Number(stored) !== total) {
          total = Number(stored);
          subscriber.next({ kind: 'total', total });
        }
        if (Date.now() - workersAt >= workersEveryMs) {
          workersAt = Date.now();
          subscriber.next({ kind: 'workers', count: await queue.getWorkersCount() });
        }
        const block = follow ? ['BLOCK', String(blockMs)] : [];
        const reply = (await redis.call(
          'XREAD',
          'COUNT',
          '1000',
          ...block,
          'STREAMS',
          keys.stream,
          lastId,
        )) as StreamReply;
        const entries = reply?.[0]?.[1] ?? [];
        for (const [id, fields] of entries) {
          lastId = id;
          const signal = signalOf(fields);
          if (signal !== undefined && !stopped) subscriber.next(signal);
        }
        if (entries.length === 0 && !follow) subscriber.next({ kind: 'caught-up' });
      }
    };
    read().catch((error: unknown) => {
      if (!stopped) subscriber.error(redisError(error, target, 'cannot read the results'));
    });
    return () => {
      stopped = true;
      redis?.disconnect();
      void queue?.close().catch(() => undefined);
    };
  });
  return signals.pipe(accountRun(follow));
}
