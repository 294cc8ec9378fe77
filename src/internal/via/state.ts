/**
 * `classifyVia` as data: the state of one subscription (its WebSocket link to the gateway and the
 * images waiting for their outcomes), the events that move it and the effects it asks for. The
 * folder `internal/via/` holds this core, its `step` and the shell that runs its effects; Node-free.
 */
import type { RetryPolicy } from '../retry/policy.js';
import type { Classified, ImageItem, ItemFailure, Outcome } from '../../model.js';
import type { ServerMessage, WireImage, WireLimits } from '../gateway/protocol.js';

/** What `classifyVia` takes: prepared images, and failures or results that pass through. */
export type ViaInput = ImageItem | ItemFailure | Classified;

export interface ViaConfig {
  /** The gateway URL fit for messages (query redacted). */
  readonly where: string;
  /** Images sent and unanswered at most (the gateway's own limit may be lower). */
  readonly maxInFlight: number;
  readonly itemTimeoutMs: number;
  /** A link without the gateway's `hello` this long after it was asked for is dropped. */
  readonly connectTimeoutMs: number;
  readonly reconnect: RetryPolicy;
  readonly random: () => number;
}

/** The WebSocket link, with explicit phases like a gRPC channel's connectivity. */
export type Link =
  /** No socket: none needed yet, or the last one closed with nothing to answer. */
  | { readonly tag: 'none' }
  /** Asked for; images wait for the gateway's `hello`, which must come by `deadline`. */
  | { readonly tag: 'connecting'; readonly id: number; readonly deadline: number }
  /** Let in: images can be sent within `limits`. */
  | { readonly tag: 'open'; readonly id: number; readonly limits: WireLimits }
  /** Dropped; the next socket is asked for at `until`. */
  | { readonly tag: 'backoff'; readonly until: number }
  /** The run is over. */
  | { readonly tag: 'over' };

/** One image between its intake and its outcome. */
export interface Pending {
  readonly item: ImageItem;
  readonly wire: WireImage;
  /** Sent on the current link and unanswered. */
  readonly sent: boolean;
  /** When it was first sent; its deadline runs from there, across every re-send. */
  readonly firstSentAt: number | undefined;
}

export interface ViaState {
  readonly config: ViaConfig;
  readonly link: Link;
  /** Links dropped in a row, and since when; reset by an outcome for one of our images. */
  readonly attempt: number;
  readonly since: number | undefined;
  /** By id, in intake order. */
  readonly pending: ReadonlyMap<string, Pending>;
  /** Ids timed out while the gateway still holds them: they count against its in-flight limit. */
  readonly ghosts: ReadonlySet<string>;
  readonly nextLink: number;
  readonly inputDone: boolean;
  readonly inputError: { readonly error: unknown } | undefined;
  readonly wakeAt: number | undefined;
}

/** What happened, as the shell tells the core; every event carries the scheduler's time. */
export type ViaEvent =
  | { readonly type: 'input'; readonly value: ViaInput; readonly now: number }
  | { readonly type: 'input-end'; readonly error?: { readonly error: unknown }; readonly now: number }
  | { readonly type: 'message'; readonly link: number; readonly message: ServerMessage; readonly now: number }
  | { readonly type: 'closed'; readonly link: number; readonly code: number; readonly now: number }
  | { readonly type: 'tick'; readonly now: number };

/** What the core asks the shell to do, in order. */
export type ViaEffect =
  | { readonly type: 'connect'; readonly link: number }
  | { readonly type: 'send'; readonly link: number; readonly image: WireImage }
  | { readonly type: 'disconnect'; readonly link: number }
  | { readonly type: 'emit'; readonly outcome: Outcome }
  | { readonly type: 'complete' }
  | { readonly type: 'error'; readonly error: unknown }
  | { readonly type: 'wake'; readonly at: number | undefined };

export function initialViaState(config: ViaConfig): ViaState {
  return {
    config,
    link: { tag: 'none' },
    attempt: 0,
    since: undefined,
    pending: new Map(),
    ghosts: new Set(),
    nextLink: 1,
    inputDone: false,
    inputError: undefined,
    wakeAt: undefined,
  };
}
