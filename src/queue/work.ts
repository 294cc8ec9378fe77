/**
 * `work`: a queue worker as an Observable. It takes chunk jobs from BullMQ (at most `chunks` at
 * once), feeds their refs without an outcome into one long-lived pipeline with its own client and
 * deployment id, and records each outcome in Redis as it is emitted.
 */
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { type Redis } from 'ioredis';
import { mergeMap, Observable, type Subscription, take, timer } from 'rxjs';
import { AthenaError } from '../errors.js';
import { classifyPipeline } from '../operators/pipeline.js';
import { newDeploymentId } from '../transport/deployments.js';
import { createChunkRunner, type ChunkRunner } from './chunk-runner.js';
import { bullConnection, openRedis, redisError } from './connection.js';
import { lenientPayload, parsePayload, type ChunkPayload } from './keys.js';
import type { QueueConnectionOptions } from './options.js';
import { createRecorder, type Recorder } from './recorder.js';
import { workSettings, type WorkerEvent, type WorkOptions } from './work-options.js';

export type { WorkerEvent, WorkOptions } from './work-options.js';

/** How often, at most, an idle worker with `untilIdle` looks again at chunks held elsewhere. */
const IDLE_RECHECK_MS = 1000;

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
  const { target, queueName, fixedDeployment, chunks, pipelineOptions, scheduler, ...leases } =
    workSettings(options);
  const { lockDuration, stalledInterval, maxStalledCount } = leases;

  return new Observable<WorkerEvent>((subscriber) => {
    const deploymentId = fixedDeployment ?? newDeploymentId('athena-rx-worker');
    let runner: ChunkRunner | undefined;
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
    const emit = (event: WorkerEvent): void => subscriber.next(event);

    const deadLetter = async (job: Job, error: unknown): Promise<void> => {
      const cause = AthenaError.from(error);
      const { run, chunk, refs } = lenientPayload(job.data, String(job.id));
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
        return await (runner as ChunkRunner).run(payload);
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
     * hold may come back when their lease lapses, so while there are any, look again within a second.
     */
    const checkIdle = (): void => {
      if (counts === undefined || ended || active > 0) return;
      void counts.getJobCounts('waiting', 'active', 'delayed', 'prioritized').then(
        (c) => {
          if (ended || active > 0) return;
          if (Object.values(c).every((n) => n === 0)) void drain();
          else if (c['waiting'] === 0 && c['prioritized'] === 0) {
            recheck?.unsubscribe();
            recheck = timer(Math.min(stalledInterval, IDLE_RECHECK_MS), scheduler).subscribe(checkIdle);
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
      runner?.end();
      await pipelineEnded;
      await counts?.close().catch(() => undefined);
      await redis?.quit().catch(() => undefined);
      subscriber.complete();
    };

    const fail = (error: unknown): void => {
      if (ended) return;
      ended = true;
      const failure = AthenaError.from(error);
      runner?.failAll(failure);
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
      const chunkRunner = createChunkRunner(recorder, target, emit);
      runner = chunkRunner;
      pipeline = chunkRunner.items
        .pipe(
          classifyPipeline({ ...pipelineOptions, deploymentId }),
          mergeMap((outcome) => chunkRunner.record(outcome)),
        )
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
      runner?.end();
      pipeline?.unsubscribe();
    };
  });
}
