import { Observable, asyncScheduler, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { redactUrl } from '../errors.js';
import type { Outcome } from '../model.js';
import { isRetryable, retryPolicy, type RetryPolicy } from '../internal/retry/policy.js';
import { runVia, type ViaSocket, type WebSocketFactory } from '../internal/via/shell.js';
import type { ViaInput } from '../internal/via/state.js';
import { assertFunction, assertInteger } from '../internal/core/validate.js';

export type { ViaInput, ViaSocket, WebSocketFactory };

/** The default reconnect policy: the one `classify` uses, a two-minute budget, delays of at most 5 s. */
export const DEFAULT_VIA_RECONNECT: Readonly<Partial<RetryPolicy>> = Object.freeze({
  maxAttempts: 10_000,
  initialDelayMs: 250,
  maxDelayMs: 5_000,
  multiplier: 2,
  budgetMs: 120_000,
  retryable: (error) => error.code === 'CANCELLED' || isRetryable(error),
});

export interface ClassifyViaOptions {
  /** Images sent and unanswered at most (default 16; the gateway's own limit wins when lower). */
  readonly maxInFlight?: number;
  /** An image without an outcome this long after it was first sent fails with `TIMEOUT` (default 120 s). */
  readonly itemTimeoutMs?: number;
  /** A socket the gateway has not let in (its `hello`) this long after it was asked for is dropped (default 30 s). */
  readonly connectTimeoutMs?: number;
  /** When to open a dropped socket again (default {@link DEFAULT_VIA_RECONNECT}). */
  readonly reconnect?: Partial<RetryPolicy>;
  /**
   * Opens a socket (default: the global `WebSocket`, looked up when the first socket is opened). In
   * Node 20, which has none, for example `(url) => new WebSocket(url)` of the `ws` package. A factory
   * that throws fails the images at stage `transport` with `UNIMPLEMENTED`, without retrying.
   */
  readonly webSocket?: WebSocketFactory;
  /** Source of time for timeouts and backoff (default `asyncScheduler`). */
  readonly scheduler?: SchedulerLike;
  /** Source of backoff jitter in [0, 1) (default `Math.random`). */
  readonly random?: () => number;
}

/**
 * Classifies prepared images through an application's gateway (`AthenaGatewayModule` of
 * `athena-rx/nest`) over a WebSocket, for browsers: the back end holds the Athena credentials and
 * stream. Every input image becomes exactly one {@link Outcome}; failures and results pass through.
 *
 * ```text
 * input:   --a--b--f---c--|         (prepared, hashed, correlated images; f: an ItemFailure)
 * socket:  --A--B------C---x--C-->  (x: dropped; unanswered images are sent again)
 * output:  -------f-b--a--------c|
 * ```
 *
 * - Images need a correlation id (`correlate()`), the prepared format (`resize()`, optionally
 *   `compress()`), and the original's MD5 and SHA-1 (`hashImage()`); otherwise they fail at stage
 *   `validate` (`INVALID_ID`, `INVALID_INPUT`, `DUPLICATE_ID`) without being sent.
 * - The socket opens on the first image; images are sent once the gateway let the connection in, at
 *   most `maxInFlight` and within the gateway's byte limit. Outcomes come as the gateway answers;
 *   an image the gateway refused (its limits) fails at stage `validate` with `RESOURCE_EXHAUSTED`.
 * - A dropped socket is opened again under `reconnect` (budget reset by an outcome), and unanswered
 *   images are sent again with their ids; an answer to an image already answered is dropped. A
 *   refusal (4401 `UNAUTHENTICATED`, 4403 `PERMISSION_DENIED`) or a spent budget fails every pending
 *   image at stage `transport`, then the run errors. No outcome `itemTimeoutMs` after its first send:
 *   stage `timeout`, `TIMEOUT`. Messages name the gateway with its query string redacted.
 * - Completes once the input completed and every image has its outcome, closing the socket.
 *   Unsubscribing closes the socket and every timer. Each outcome's lease is released after it is emitted.
 *
 * @example
 * ```ts
 * import { classifyVia } from 'athena-rx/browser';
 *
 * const outcomes$ = prepared$.pipe(classifyVia('wss://app.example/athena'));
 * ```
 *
 * @param gatewayUrl - a `ws:` or `wss:` URL.
 * @param options - `maxInFlight` (16), `itemTimeoutMs` (120 000), `connectTimeoutMs` (30 000),
 *   `reconnect`, `webSocket`, `scheduler`, `random`.
 * @throws TypeError or RangeError when the URL or an option is invalid.
 */
export function classifyVia(
  gatewayUrl: string | URL,
  options: ClassifyViaOptions = {},
): OperatorFunction<ViaInput, Outcome> {
  const url = String(gatewayUrl);
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new TypeError(`gatewayUrl must be a URL, got ${redactUrl(String(url))}`);
  }
  if (protocol !== 'ws:' && protocol !== 'wss:')
    throw new RangeError(`gatewayUrl must be ws: or wss:, got ${protocol}`);
  const webSocket = options.webSocket ?? globalWebSocket;
  assertFunction('webSocket', webSocket);
  const runtime = {
    url,
    where: redactUrl(url),
    maxInFlight: assertInteger('maxInFlight', options.maxInFlight ?? 16, 1),
    itemTimeoutMs: assertInteger('itemTimeoutMs', options.itemTimeoutMs ?? 120_000, 1),
    connectTimeoutMs: assertInteger('connectTimeoutMs', options.connectTimeoutMs ?? 30_000, 1),
    reconnect: retryPolicy({ ...DEFAULT_VIA_RECONNECT, ...options.reconnect }),
    webSocket,
    scheduler: options.scheduler ?? asyncScheduler,
    random: assertFunction<() => number>('random', options.random ?? Math.random),
  };
  return (source) =>
    new Observable<Outcome>((subscriber) => {
      const via = runVia(runtime, subscriber);
      const input = source.subscribe({
        next: (value) => via.input(value),
        error: (error: unknown) => via.end({ error }),
        complete: () => via.end(),
      });
      return () => {
        input.unsubscribe();
        via.close();
      };
    });
}

/** The global `WebSocket`, looked up when a socket is opened (not at all during server-side rendering). */
function globalWebSocket(url: string): ViaSocket {
  const Socket = (globalThis as { WebSocket?: new (url: string) => ViaSocket }).WebSocket;
  if (Socket === undefined) {
    throw new TypeError('no global WebSocket: pass options.webSocket (for example from the ws package)');
  }
  return new Socket(url);
}
