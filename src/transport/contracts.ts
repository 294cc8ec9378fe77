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

/**
 * One bidirectional `Classify` stream per subscription. Subscribing opens the call for `deploymentId`
 * and writes each request `requests` emits (waiting for `drain` when the call's buffer is full); the
 * completion of `requests` half-closes the call; unsubscribing cancels it. Emits every response; errors
 * with an `AthenaError` whose `status` is the gRPC status when the stream breaks; completes when the
 * server ends the call.
 */
export interface ClassifyStreamClient {
  classifyStream(deploymentId: string, requests: Observable<ClassifyRequest>): Observable<ClassifyResponse>;
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
