/** The options of `work`, their checks and defaults, and the events it emits. */
import { asyncScheduler, type Observable, type SchedulerLike } from 'rxjs';
import type { AthenaError } from '../errors.js';
import { assertInteger, assertOneOf, assertString, cpuCount } from '../internal/core/validate.js';
import type { Outcome } from '../model.js';
import { DEFAULT_BROTLI_QUALITY } from '../operators/compress.js';
import type { AthenaClient } from '../transport/AthenaClient.js';
import { validateDeploymentId } from '../transport/deployments.js';
import { redisTarget } from './connection.js';
import { DEFAULT_QUEUE, validateQueueName } from './keys.js';
import type { QueueConnectionOptions } from './options.js';

export interface WorkOptions {
  /** The worker's own client. */
  readonly client: AthenaClient;
  readonly affiliate: string;
  /**
   * The worker's deployment id; a fresh one per subscription by default. Workers must not share one:
   * clients sharing a deployment share its outputs.
   */
  readonly deploymentId?: string;
  /** Chunks held at once. Default 2. */
  readonly chunks?: number;
  /** Images decoded and resized at once. Default: the CPU cores. */
  readonly concurrency?: number;
  /** Images per request. Default 32. */
  readonly batchSize?: number;
  /** Images sent and not yet answered. Default 256. */
  readonly maxInFlight?: number;
  /** Brotli quality. Default as `compress`. */
  readonly quality?: number;
  readonly resize?: 'exact' | 'fast';
  /** How long a chunk's lease lasts unless renewed, in ms (BullMQ `lockDuration`). Default 30 s. */
  readonly lockDurationMs?: number;
  /** How often leases that lapsed are looked for, in ms (BullMQ `stalledInterval`). Default 30 s. */
  readonly stalledIntervalMs?: number;
  /** Lapsed leases a chunk survives before it fails for good. Default 2. */
  readonly maxStalledCount?: number;
  /** Complete once the queue has no chunk waiting and this worker holds none. */
  readonly untilIdle?: boolean;
  /** Timers (the idle re-check). Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** When it emits, the worker drains: no new chunk, those held finished, then completion. */
  readonly stop?: Observable<unknown>;
}

/** What a worker reports. */
export type WorkerEvent =
  | { readonly kind: 'started'; readonly deploymentId: string }
  /** A chunk taken: `todo` of its `refs` had no outcome yet. */
  | {
      readonly kind: 'chunk';
      readonly run: string;
      readonly chunk: number;
      readonly refs: number;
      readonly todo: number;
    }
  /** An outcome this worker recorded (an outcome another worker recorded first is not reported). */
  | { readonly kind: 'outcome'; readonly run: string; readonly chunk: number; readonly outcome: Outcome }
  | { readonly kind: 'chunk-done'; readonly run: string; readonly chunk: number; readonly recorded: number }
  /** A chunk failed this try; with `last` it goes to the failed set. */
  | {
      readonly kind: 'chunk-failed';
      readonly jobId: string;
      readonly error: AthenaError;
      readonly last: boolean;
    }
  /** A chunk failed for good: `refs` of its refs got a `CHUNK_FAILED` outcome. */
  | {
      readonly kind: 'dead-letter';
      readonly run: string;
      readonly chunk: number;
      readonly refs: number;
      readonly error: AthenaError;
    };

/** Checks `work`'s options when it is called and fills in the defaults. */
export function workSettings(options: WorkOptions & QueueConnectionOptions) {
  const target = redisTarget(options.redis, options.tls);
  const queueName = validateQueueName(options.queue ?? DEFAULT_QUEUE);
  if (typeof options.client?.listDeployments !== 'function') {
    throw new TypeError('client must be an AthenaClient');
  }
  const affiliate = assertString('affiliate', options.affiliate);
  const ms = (name: string, value: number | undefined): number =>
    assertInteger(name, value ?? 30_000, 100, 3_600_000);
  return {
    target,
    queueName,
    fixedDeployment:
      options.deploymentId === undefined ? undefined : validateDeploymentId(options.deploymentId),
    chunks: assertInteger('chunks', options.chunks ?? 2, 1, 1000),
    pipelineOptions: {
      client: options.client,
      affiliate,
      concurrency: assertInteger('concurrency', options.concurrency ?? cpuCount(), 1, 64),
      batchSize: assertInteger('batchSize', options.batchSize ?? 32, 1, 1000),
      maxInFlight: assertInteger('maxInFlight', options.maxInFlight ?? 256, 1, 10_000),
      quality: assertInteger('quality', options.quality ?? DEFAULT_BROTLI_QUALITY, 0, 11),
      resize: assertOneOf('resize', options.resize ?? 'exact', ['exact', 'fast'] as const),
    },
    scheduler: options.scheduler ?? asyncScheduler,
    lockDuration: ms('lockDurationMs', options.lockDurationMs),
    stalledInterval: ms('stalledIntervalMs', options.stalledIntervalMs),
    maxStalledCount: assertInteger('maxStalledCount', options.maxStalledCount ?? 2, 0, 100),
  };
}
