/**
 * `work`: a queue worker as an Observable. It takes chunk jobs from BullMQ (at most `chunks` at
 * once), feeds their refs without an outcome into one long-lived pipeline with its own client and
 * deployment id, and records each outcome in Redis as it is emitted.
 */
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { type Redis } from 'ioredis';
import {
  asyncScheduler,
  EMPTY,
  from,
  merge,
  mergeMap,
  Observable,
  type Subscription,
  take,
  timer,
} from 'rxjs';
import { AthenaError } from '../errors.js';
import { isFinalRecord, journalRecord } from '../internal/journal-record.js';
import { classifyPipeline } from '../internal/pipeline.js';
import { assertInteger, assertOneOf, assertString, cpuCount } from '../internal/validate.js';
import type { Outcome } from '../model.js';
import { DEFAULT_BROTLI_QUALITY } from '../operators/compress.js';
import { fromFiles } from '../sources/fromFiles.js';
import { fromUrls } from '../sources/fromUrls.js';
import { newDeploymentId, validateDeploymentId } from '../transport/deployments.js';
import { bullConnection, openRedis, redisError, redisTarget } from './connection.js';
import { createFeed } from './feed.js';
import { DEFAULT_QUEUE, isUrl, parsePayload, refKey, validateQueueName, type ChunkPayload } from './keys.js';
import { claim, hold, newLedger, settle, type HeldChunk } from './ledger.js';
import type { QueueConnectionOptions } from './options.js';
import { createRecorder, type Recorder } from './recorder.js';
import { checkStorage } from './storage.js';
import type { WorkerEvent, WorkOptions } from './work-options.js';

export type { WorkerEvent, WorkOptions } from './work-options.js';

/** Whether a job's failure now is its last (no retry follows). */
function isLastTry(job: Job, error: unknown): boolean {
  return error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/**
 * Works on chunks until `stop` emits (then drains: takes no new chunk, finishes those it holds,
 * closes the worker and completes), until the queue is idle with `untilIdle`, or until unsubscribed
 * (then hands its chunks back at once: BullMQ re-delivers them when their lock lapses). Errors with
 * `REDIS_ERROR` when Redis cannot be reached, and with the pipeline's error when the service ends
 * the run; chunks it held go back to the queue.
 *
 * ```text
 * chunks:  --c1---c2------|        (jobs taken from the queue)
 * result:  s-c-o-o-c-o-d-d|        s started, c chunk, o outcome, d chunk-done
 * ```
 *
 * @example
 * ```ts
 * import { work } from 'athena-rx/queue';
 *
 * work({ redis: process.env.REDIS_URL!, client, affiliate: 'acme', chunks: 2, stop: sigterm$ }).subscribe();
 * ```
 */
export function work(options: WorkOptions & QueueConnectionOptions): Observable<WorkerEvent> {
  const target = redisTarget(options.redis, options.tls);
  const queueName = validateQueueName(options.queue ?? DEFAULT_QUEUE);
  if (typeof options.client?.listDeployments !== 'function')
    throw new TypeError('client must be an AthenaClient');
  const affiliate = assertString('affiliate', options.affiliate);
  const fixedDeployment =
    options.deploymentId === undefined ? undefined : validateDeploymentId(options.deploymentId);
  const chunks = assertInteger('chunks', options.chunks ?? 2, 1, 1000);
  const pipelineOptions = {
    client: options.client,
    affiliate,
    concurrency: assertInteger('concurrency', options.concurrency ?? cpuCount(), 1, 64),
    batchSize: assertInteger('batchSize', options.batchSize ?? 32, 1, 1000),
    maxInFlight: assertInteger('maxInFlight', options.maxInFlight ?? 256, 1, 10_000),
    quality: assertInteger('quality', options.quality ?? DEFAULT_BROTLI_QUALITY, 0, 11),
    resize: assertOneOf('resize', options.resize ?? 'exact', ['exact', 'fast'] as const),
  };
  const lockDuration = assertInteger('lockDurationMs', options.lockDurationMs ?? 30_000, 100, 3_600_000);
  const stalledInterval = assertInteger(
    'stalledIntervalMs',
    options.stalledIntervalMs ?? 30_000,
    100,
    3_600_000,
  );
  const scheduler = options.scheduler ?? asyncScheduler;
  const maxStalledCount = assertInteger('maxStalledCount', options.maxStalledCount ?? 2, 0, 100);

  return new Observable<WorkerEvent>((subscriber) => {
    const deploymentId = fixedDeployment ?? newDeploymentId('athena-rx-worker');
    const files = createFeed<string>();
    const urls = createFeed<string>();
    const ledger = newLedger();
    const finishers = new Map<HeldChunk, (error?: AthenaError) => void>();
    let redis: Redis | undefined;
    let recorder: Recorder | undefined;
    let worker: Worker | undefined;
    let pipeline: Subscription | undefined;
    let stopSub: Subscription | undefined;
    let active = 0;
    let counts: Queue | undefined;
    let recheck: Subscription | undefined;
    let ended = false;
    let pipelineDone: () => void = () => undefined;
    const pipelineEnded = new Promise<void>((resolve) => (pipelineDone = resolve));

    const finish = (held: HeldChunk): void => {
      subscriber.next({ kind: 'chunk-done', run: held.run, chunk: held.chunk, recorded: held.recorded });
      finishers.get(held)?.(held.error);
      finishers.delete(held);
    };

    const onOutcome = (outcome: Outcome): Observable<never> => {
      const held = claim(ledger, outcome.ref);
      if (held === undefined || recorder === undefined) return EMPTY;
      if (!isFinalRecord(journalRecord(outcome))) {
        // Another try may classify it: the chunk goes back to the queue instead.
        if (settle(held, false, outcome.ok ? undefined : outcome.error)) finish(held);
        return EMPTY;
      }
      return from(
        recorder.record(held.run, outcome).then(
          (written) => {
            if (written) subscriber.next({ kind: 'outcome', run: held.run, chunk: held.chunk, outcome });
            if (settle(held, written)) finish(held);
          },
          (error: unknown) => {
            if (settle(held, false, redisError(error, target, 'cannot record an outcome'))) finish(held);
          },
        ),
      ).pipe(mergeMap(() => EMPTY));
    };

    const runChunk = async (payload: ChunkPayload): Promise<number> => {
      await checkStorage(payload.refs);
      const todo = await (recorder as Recorder).todo(payload.run, payload.refs);
      subscriber.next({
        kind: 'chunk',
        run: payload.run,
        chunk: payload.chunk,
        refs: payload.refs.length,
        todo: todo.length,
      });
      if (todo.length === 0) {
        subscriber.next({ kind: 'chunk-done', run: payload.run, chunk: payload.chunk, recorded: 0 });
        return 0;
      }
      const held = hold(ledger, payload.run, payload.chunk, todo.map(refKey));
      const done = new Promise<number>((resolve, reject) =>
        finishers.set(held, (error) => (error === undefined ? resolve(held.recorded) : reject(error))),
      );
      files.push(todo.filter((ref) => !isUrl(ref)));
      urls.push(todo.filter(isUrl));
      return done;
    };

    const deadLetter = async (job: Job, error: unknown): Promise<void> => {
      const cause = AthenaError.from(error);
      const run =
        typeof job.data?.run === 'string' ? (job.data.run as string) : (String(job.id).split('/')[0] ?? '');
      const chunk = Number.isSafeInteger(job.data?.chunk) ? (job.data.chunk as number) : -1;
      const refs = Array.isArray(job.data?.refs)
        ? (job.data.refs as unknown[]).filter((r): r is string => typeof r === 'string')
        : [];
      if (recorder === undefined || run === '') return;
      const failed = await recorder.deadLetter(run, chunk, refs, cause).catch(() => 0);
      subscriber.next({ kind: 'dead-letter', run, chunk, refs: failed, error: cause });
    };

    const processor = async (job: Job): Promise<number> => {
      active += 1;
      try {
        let payload: ChunkPayload;
        try {
          payload = parsePayload(job.data);
        } catch (error) {
          throw new UnrecoverableError((error as Error).message);
        }
        return await runChunk(payload);
      } catch (error) {
        const last = isLastTry(job, error);
        subscriber.next({
          kind: 'chunk-failed',
          jobId: String(job.id),
          error: AthenaError.from(error),
          last,
        });
        if (last) await deadLetter(job, error);
        throw error;
      } finally {
        active -= 1;
      }
    };

    /**
     * With untilIdle: done once no chunk waits, is delayed or is held anywhere. Chunks other workers
     * hold may come back when their lease lapses, so while there are any, look again later.
     */
    const checkIdle = (): void => {
      if (counts === undefined || ended || active > 0) return;
      void counts.getJobCounts('waiting', 'active', 'delayed', 'prioritized').then(
        (c) => {
          if (ended || active > 0) return;
          if (Object.values(c).every((n) => n === 0)) void drain();
          else if (c['waiting'] === 0 && c['prioritized'] === 0) {
            recheck?.unsubscribe();
            recheck = timer(stalledInterval, scheduler).subscribe(checkIdle);
          }
        },
        (error: unknown) => fail(redisError(error, target, 'cannot count the chunks')),
      );
    };

    const drain = async (): Promise<void> => {
      if (ended) return;
      ended = true;
      recheck?.unsubscribe();
      stopSub?.unsubscribe();
      await worker?.close();
      files.end();
      urls.end();
      await pipelineEnded;
      await counts?.close().catch(() => undefined);
      await redis?.quit().catch(() => undefined);
      subscriber.complete();
    };

    const fail = (error: unknown): void => {
      if (ended) return;
      ended = true;
      const failure = AthenaError.from(error);
      for (const finisher of finishers.values()) finisher(failure);
      recheck?.unsubscribe();
      void worker?.close(true).catch(() => undefined);
      void counts?.close().catch(() => undefined);
      redis?.disconnect();
      subscriber.error(failure);
    };

    void (async () => {
      redis = await openRedis(target, 'athena-rx:worker');
      recorder = createRecorder(redis);
      if (ended) return void redis.disconnect();
      pipeline = merge(fromFiles(files), fromUrls(urls))
        .pipe(classifyPipeline({ ...pipelineOptions, deploymentId }), mergeMap(onOutcome))
        .subscribe({ error: fail, complete: () => pipelineDone() });
      worker = new Worker(queueName, processor, {
        connection: bullConnection(target),
        concurrency: chunks,
        lockDuration,
        stalledInterval,
        maxStalledCount,
      });
      worker.on('error', () => undefined);
      worker.on('failed', (job, error) => {
        // A job that stalled too often fails without its processor: it gets its dead letter here.
        if (job !== undefined && /stalled more than allowable limit/.test(error.message))
          void deadLetter(job, error);
      });
      if (options.untilIdle === true) {
        counts = new Queue(queueName, { connection: bullConnection(target) });
        counts.on('error', () => undefined);
        // After a chunk is moved to completed or failed; in the processor it is still active.
        for (const event of ['drained', 'completed', 'failed'] as const) worker.on(event, checkIdle);
      }
      stopSub = options.stop?.pipe(take(1)).subscribe(() => void drain());
      subscriber.next({ kind: 'started', deploymentId });
    })().catch(fail);

    return () => {
      if (!ended) {
        ended = true;
        void worker?.close(true).catch(() => undefined);
        void counts?.close().catch(() => undefined);
        redis?.disconnect();
      }
      recheck?.unsubscribe();
      stopSub?.unsubscribe();
      files.end();
      urls.end();
      pipeline?.unsubscribe();
    };
  });
}
