/**
 * `athena-rx/queue`: a run shared by many workers over BullMQ and Redis. `enqueue` turns inputs
 * into chunk jobs of references, `work` classifies chunks and records each outcome once per ref,
 * `results` follows a run's outcomes to completion. BullMQ and ioredis are optional peer
 * dependencies, loaded only by this entry point.
 *
 * @packageDocumentation
 */
export { redisTarget, type RedisTarget } from './connection.js';
export { enqueue, type EnqueueOptions, type EnqueueReport } from './enqueue.js';
export {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_QUEUE,
  jobId,
  runKeys,
  type ChunkPayload,
  type RunKeys,
} from './keys.js';
export type { QueueConnectionOptions } from './options.js';
export {
  accountRun,
  chunkRefs,
  NO_PROGRESS,
  progressStep,
  type RefChunk,
  type RunEvent,
  type RunProgress,
  type RunSignal,
} from './progress.js';
export { results, type ResultsOptions } from './results.js';
export { work, type WorkerEvent, type WorkOptions } from './work.js';
