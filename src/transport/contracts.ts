/**
 * The contracts between the transport and the operators. `classify` and `classifyEach` depend only on
 * these shapes, so marble tests can hand them a fake made of `cold(...)` Observables, and
 * `AthenaClient` implements them over a real grpc-js channel.
 */
import type { Observable } from 'rxjs';
import type {
  ClassificationInput,
  ClassificationOutput,
  ClassifyRequest,
  ClassifyResponse,
} from '../generated/athena/models.js';

/** An OAuth access token as the channel uses it. */
export interface AccessToken {
  /** The bearer value, never logged. */
  readonly accessToken: string;
  /** Used as given in the `authorization` header (`Bearer`, ...). */
  readonly tokenType: string;
  /** Expiry in epoch milliseconds; `Infinity` for a token that does not expire. */
  readonly expiresAt: number;
}

/**
 * A token source: emits the current token, then a fresh one before the old expires. Any
 * `Observable<AccessToken>` is accepted; the sources built by athena-rx also offer `refresh()`, which
 * the client calls once when a call fails `UNAUTHENTICATED`.
 */
export type TokenSource = Observable<AccessToken> & { refresh?: () => void };

/** What a {@link ClassifyStreamClient} reports about the requests written to a call. */
export interface ClassifyStreamHooks {
  /** The call is open (connected, credentials attached): requests are written from now on. */
  opened?(): void;
  /** The bytes of `request` (an object `requests` emitted) left the client's buffers. */
  written?(request: ClassifyRequest): void;
}

/**
 * One bidirectional `Classify` stream per subscription. Subscribing opens the call for `deploymentId`
 * and writes each request `requests` emits (waiting for `drain` when the call's buffer is full); the
 * completion of `requests` half-closes the call; unsubscribing cancels it. Emits every
 * response; errors with an `AthenaError` whose `status` is the gRPC status when the stream breaks;
 * completes when the server ends the call.
 */
export interface ClassifyStreamClient {
  /** The gRPC target (`host:port`), when known: telemetry reports it as `server.address` and `server.port`. */
  readonly address?: string;
  classifyStream(
    deploymentId: string,
    requests: Observable<ClassifyRequest>,
    hooks?: ClassifyStreamHooks,
  ): Observable<ClassifyResponse>;
  /**
   * True when `classifyStream` calls `hooks.opened` once the call is open and `hooks.written` for every
   * request it writes. `classify` then writes nothing before the call is open (waiting for a connection
   * or a token starts no item's deadline) and holds an image's window slot until its request's bytes
   * are gone, not only until its outcome. Without it, the call counts as open once the client
   * subscribed to `requests`, and a request as written once `requests` emitted it.
   */
  readonly acknowledgesWrites?: boolean;
}

export interface ClassifySingleOptions {
  /** Deadline of the call in milliseconds (default 120 s). */
  readonly deadlineMs?: number;
}

/** The unary `ClassifySingle` call as a cold Observable that cancels the call on unsubscribe. */
export interface ClassifySingleClient {
  classifySingle(
    input: ClassificationInput,
    options?: ClassifySingleOptions,
  ): Observable<ClassificationOutput>;
}

/**
 * What a `classify` subscription reports besides outcomes, for progress and diagnostics. Delivered to
 * the optional `events` observer of `classify`; never affects the outcomes.
 */
export type ClassifyEvent =
  /** A request batch was written: `items` inputs, `bytes` of image data. */
  | { readonly type: 'sent'; readonly items: number; readonly bytes: number }
  /** Unanswered items written again after a reconnect. */
  | { readonly type: 'resent'; readonly items: number }
  /** The stream broke and will be opened again after `delayMs`. */
  | { readonly type: 'reconnect'; readonly attempt: number; readonly delayMs: number; readonly error: Error }
  /** An output for a correlation id this subscription did not send (another client on the deployment). */
  | { readonly type: 'foreign'; readonly correlationId: string }
  /** A second output for an id already answered, dropped. */
  | { readonly type: 'duplicate'; readonly correlationId: string }
  /** An empty keepalive request was written. */
  | { readonly type: 'keepalive' }
  /** A `global_error` failed `items` inputs. */
  | { readonly type: 'global-error'; readonly items: number; readonly error: Error }
  /**
   * No response came on the stream for `afterMs` while `items` written images waited for outputs: the
   * call is cancelled and opened again (counted against the reconnect budget), the images re-sent.
   */
  | { readonly type: 'stall'; readonly afterMs: number; readonly items: number }
  /** A failed item is sent again under the retry policy. */
  | { readonly type: 'retry'; readonly correlationId: string; readonly attempt: number };
