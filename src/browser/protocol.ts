/**
 * The messages between the page's worker pool and `startPrepareWorker`: one `init` per worker
 * (compiled decoder modules), then `prepare` requests answered by `prepared` or `failed` replies
 * carrying the request's `id`. Plain data only: everything passes through `postMessage`.
 */
import type { PrepareMode } from '../imaging/prepare-core.js';

/** Compiled `WebAssembly.Module`s of the decoders; a missing one is loaded by its package's default. */
export interface DecoderModules {
  readonly jpeg?: object;
  readonly png?: object;
  readonly webp?: object;
}

export interface InitMessage {
  readonly type: 'init';
  readonly modules: DecoderModules;
}

export interface PrepareRequest {
  readonly type: 'prepare';
  readonly id: number;
  /** The original file bytes (copied, not transferred: the item may still need them). */
  readonly bytes: Uint8Array;
  readonly mode: PrepareMode;
  readonly maxPixels: number;
}

export type WorkerRequest = InitMessage | PrepareRequest;

export interface PreparedReply {
  readonly type: 'prepared';
  readonly id: number;
  /** 602,112 B, G, R bytes (transferred). */
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

export interface FailedReply {
  readonly type: 'failed';
  readonly id: number;
  /** An `AthenaErrorCode`. */
  readonly code: string;
  readonly message: string;
}

export type WorkerReply = PreparedReply | FailedReply;

/** Whether a message from a worker is one of its replies. */
export function isReply(value: unknown): value is WorkerReply {
  const reply = value as Partial<WorkerReply> | null;
  return (
    typeof reply === 'object' &&
    reply !== null &&
    (reply.type === 'prepared' || reply.type === 'failed') &&
    typeof reply.id === 'number'
  );
}
