/**
 * The classify session as data: the state of one `classify` subscription, the events that move it and
 * the effects it asks for. The folder `internal/classify/` holds this core (`state`, `step` and the
 * parts it is made of), the shell that runs its effects, and the request and option checks; it imports
 * only the model, errors, generated types and `internal/` helpers, never the operators.
 */
import type { AthenaError } from '../../errors.js';
import type {
  ClassificationInput,
  ClassificationOutput,
  ClassifyResponse,
} from '../../generated/athena/models.js';
import type { Classified, ImageBatch, ImageItem, ItemFailure, Outcome } from '../../model.js';
import type { ClassifyEvent } from '../../transport/contracts.js';
import type { ClassifyConfig } from './options.js';

/** What `classify` takes. */
export type ClassifyInput = ImageItem | ImageBatch | ItemFailure | Classified;

/** Why an item is queued for writing: its first send, a re-send after a broken stream, or a retry. */
export type SendKind = 'send' | 'resend' | 'retry';

/** Where one pending image stands. */
export type Phase =
  /** Taken in, waiting for a slot of the `maxInFlight` window. */
  | { readonly tag: 'waiting' }
  /** Holds a slot, queued for writing on the next open stream. */
  | { readonly tag: 'queued'; readonly kind: SendKind }
  /** Handed to stream `stream` in request `request`, unanswered. */
  | { readonly tag: 'written'; readonly stream: number; readonly request: number }
  /** Its output failed with a retryable error: written again at `until`. */
  | { readonly tag: 'backoff'; readonly until: number };

/** One image between its intake and its outcome. */
export interface Entry {
  readonly id: string;
  /** Position among the subscription's inputs. */
  readonly seq: number;
  readonly item: ImageItem;
  readonly input: ClassificationInput;
  readonly phase: Phase;
  /** Attempts under the retry policy, the first included. */
  readonly attempt: number;
  /** When it was first handed to a stream; its deadline runs from there, across every re-send. */
  readonly firstWriteAt: number | undefined;
}

/** A request handed to the current stream whose bytes may still be held, or whose batch a global error may answer. */
export interface RequestRecord {
  readonly stream: number;
  readonly ids: readonly string[];
  /** Its bytes left the client's buffers. */
  readonly acked: boolean;
  /** An output for one of its items arrived, so no global error answers it. */
  readonly answered: boolean;
}

/** An outcome decided but not yet emitted: held while its request's bytes are held, or for input order. */
export interface Held {
  readonly seq: number;
  readonly outcome: Outcome;
  /** Holds a slot of the window until emitted. */
  readonly slot: boolean;
}

/** The `Classify` call, as grpc-js models a channel: explicit phases and transitions. */
export type Stream =
  /** No call: none needed yet, or the last one ended with nothing to answer. */
  | { readonly tag: 'none' }
  /** Asked for at `startedAt`; requests wait until the client takes the request stream; given up at `deadline`. */
  | { readonly tag: 'opening'; readonly id: number; readonly startedAt: number; readonly deadline: number }
  /** Requests can be written. */
  | {
      readonly tag: 'open';
      readonly id: number;
      readonly lastWriteAt: number;
      /** Since when written items have waited with no response; undefined while none waits. */
      readonly quietSince: number | undefined;
    }
  /** Broken; the next call opens at `until`. */
  | { readonly tag: 'backoff'; readonly until: number }
  /** Half-closed after the last outcome; cancelled at `until` if the server has not ended it. */
  | { readonly tag: 'closing'; readonly id: number; readonly until: number }
  /** The run is over. */
  | { readonly tag: 'over' };

/** A streak of broken streams, bounded by the reconnect policy; reset only by an output for our own image. */
export interface Streak {
  readonly attempt: number;
  readonly since: number | undefined;
  readonly authRetried: boolean;
}

export interface SessionState {
  readonly config: ClassifyConfig;
  readonly stream: Stream;
  readonly streak: Streak;
  readonly entries: ReadonlyMap<string, Entry>;
  /** Input batches waiting for a slot, as lists of ids. */
  readonly waiting: readonly (readonly string[])[];
  /** Units queued for writing, in the order they go out. */
  readonly outbox: readonly { readonly ids: readonly string[]; readonly kind: SendKind }[];
  readonly requests: ReadonlyMap<number, RequestRecord>;
  /** Outcomes held until their request's bytes are released, by request id. */
  readonly holding: ReadonlyMap<number, readonly Held[]>;
  /** Outcomes released, held back for input order (ordered mode only), by input position. */
  readonly order: ReadonlyMap<number, Held>;
  readonly nextOut: number;
  /** Slots of the window taken: admitted images and their outcomes until emitted. */
  readonly occupied: number;
  readonly nextSeq: number;
  readonly nextStream: number;
  readonly nextRequest: number;
  /** Recently answered ids, oldest first: a later output for one of them is a duplicate. */
  readonly answered: ReadonlySet<string>;
  readonly inputDone: boolean;
  readonly inputError: { readonly error: unknown } | undefined;
  /** Tells how many inputs the source has not read yet (from the last lease seen). */
  readonly unread: (() => number | undefined) | undefined;
  /** The time the shell must next send a `tick`; undefined for none. */
  readonly wakeAt: number | undefined;
}

/** What happened, as the shell tells the core; every event carries the scheduler's time. */
export type SessionEvent =
  | { readonly type: 'input'; readonly value: ClassifyInput; readonly now: number }
  | { readonly type: 'input-end'; readonly error?: { readonly error: unknown }; readonly now: number }
  | { readonly type: 'opened'; readonly stream: number; readonly now: number }
  | { readonly type: 'written'; readonly stream: number; readonly request: number; readonly now: number }
  | {
      readonly type: 'response';
      readonly stream: number;
      readonly response: ClassifyResponse;
      readonly now: number;
    }
  | {
      readonly type: 'ended';
      readonly stream: number;
      readonly error: AthenaError | undefined;
      readonly now: number;
    }
  | { readonly type: 'tick'; readonly now: number };

/** What the core asks the shell to do, in order. */
export type Effect =
  | { readonly type: 'open'; readonly stream: number }
  /** Write a request (no inputs: the keepalive; `request` -1 then, never acknowledged). */
  | {
      readonly type: 'write';
      readonly stream: number;
      readonly request: number;
      readonly inputs: readonly ClassificationInput[];
    }
  | { readonly type: 'half-close'; readonly stream: number }
  | { readonly type: 'cancel'; readonly stream: number }
  | { readonly type: 'emit'; readonly outcome: Outcome }
  | { readonly type: 'event'; readonly event: ClassifyEvent }
  | { readonly type: 'foreign'; readonly output: ClassificationOutput }
  | { readonly type: 'complete' }
  | { readonly type: 'error'; readonly error: unknown }
  /** The next `tick` is due at `at` (undefined: no timer needed). */
  | { readonly type: 'wake'; readonly at: number | undefined };

/** The state of a new subscription. */
export function initialState(config: ClassifyConfig): SessionState {
  return {
    config,
    stream: { tag: 'none' },
    streak: { attempt: 0, since: undefined, authRetried: false },
    entries: new Map(),
    waiting: [],
    outbox: [],
    requests: new Map(),
    holding: new Map(),
    order: new Map(),
    nextOut: 0,
    occupied: 0,
    nextSeq: 0,
    nextStream: 1,
    nextRequest: 1,
    answered: new Set(),
    inputDone: false,
    inputError: undefined,
    unread: undefined,
    wakeAt: undefined,
  };
}
