import { Observable, type OperatorFunction } from 'rxjs';
import type { Outcome } from '../model.js';
import type { ClassifyStreamClient } from '../transport/contracts.js';
import {
  classifyConfig,
  DEFAULT_RECONNECT_POLICY,
  type ClassifyOptions,
} from '../internal/classify/options.js';
import { runSession } from '../internal/classify/shell.js';
import type { ClassifyInput } from '../internal/classify/state.js';

export type { ClassifyOptions, ClassifyInput };
export { DEFAULT_RECONNECT_POLICY };

/**
 * Classifies images over one bidirectional `Classify` stream per subscription, and turns every input
 * image into exactly one {@link Outcome}. Failures and already classified values pass through as they
 * are; an `ImageBatch` is written as one request, a lone item as a batch of one.
 *
 * ```text
 * the service answers each request 3 ms after it is written; B = a batch of b and c; f a failure
 * source:  -a--B-f|
 * output:  ----a-f(bc|)     one outcome per image as its answer comes (`ordered: true`: in input order)
 * ```
 *
 * - Opened on subscribe; half-closed once the input completed and every item has its outcome, then
 *   the output completes (when the server ends the call, or after `closeTimeoutMs`). Unsubscribing
 *   cancels the call and every timer.
 * - Checked before sending (failures at stage `validate`, never sent): a correlation id is required
 *   (`INVALID_ID`: give ids with `correlate()`), at most 63 characters, and unique among the pending
 *   items (`DUPLICATE_ID`); bytes need a format (`INVALID_INPUT`).
 * - Outputs are matched by correlation id. Outputs for ids this subscription did not send (another
 *   client on the deployment) become `foreign` events and go to the `foreign` observer; a second output
 *   for an answered id is dropped (`duplicate` event). A per-output error is a failure at stage
 *   `classify`; with `retry`, retryable ones (`MODEL_ERROR`, `UNSPECIFIED`) are sent again after a
 *   backoff, never `IMAGE_TOO_LARGE` or `AFFILIATE_NOT_PERMITTED`.
 * - A `global_error` answers a whole batch and comes without outputs, so it fails the oldest batch
 *   written on the current stream that has had no output yet; if there is none, every item in flight
 *   (`GLOBAL_ERROR`, the service's error as `cause`). Global errors from other clients on the
 *   deployment can be taken for ours: a `retry` policy sends such items again.
 * - At most `maxInFlight` items are taken in and not yet emitted (a larger batch is written alone);
 *   further input waits. With a client that reports writes (`AthenaClient`), an item also keeps its
 *   slot until its request's bytes left the client, so memory stays bounded when outcomes come before
 *   the bytes are written. Upstream flow control comes from leases: each outcome's `lease` is released
 *   right after it is emitted.
 * - An item without an output `itemTimeoutMs` after its first write fails at stage `timeout`
 *   (`TIMEOUT`); the deadline holds across re-sends, and an item never written never times out. A late
 *   output is then a duplicate. An empty request keeps an idle stream alive every `keepaliveMs`.
 * - A stream that goes quiet (no response for `stallTimeoutMs` while written items wait) is cancelled
 *   and opened again (`stall` event). A broken stream (`UNAVAILABLE`, `INTERNAL`, `UNKNOWN`,
 *   `RESOURCE_EXHAUSTED`, `ABORTED`, `CANCELLED` by a server shutting down, or the server ending the
 *   call with items unanswered) is opened again under `reconnect` with capped jittered backoff, writing
 *   only the unanswered items again with their ids (outputs of the first sends that still wait on the
 *   deployment then come twice; the second is dropped). The default budget rides out a two-minute
 *   outage and is reset only by an output for one of this subscription's own items; waiting for a
 *   connection or a token counts against it. `UNAUTHENTICATED` is tried once more at once. When the
 *   budget is spent, or at once for other statuses, every item taken in fails at stage `transport`,
 *   then the run errors, saying how many inputs were never read.
 * - With OpenTelemetry (`@opentelemetry/api` installed and a provider given or registered), each
 *   stream connection is a span `athena.ClassifierService/Classify` with events for reconnects,
 *   stalls, global errors and keepalives, and outcomes, reconnects and payloads are counted. An image
 *   whose source traces it (its `trace`) gets the wait for its output as `athena.image.wait` and its
 *   trace ended with its outcome; `traceImages` starts traces here for images that come without one.
 * - The `events` and `foreign` observers never affect outcomes: what they throw is reported as an
 *   unhandled error.
 *
 * @example
 * ```ts
 * import { batch, classify, correlate } from 'athena-rx/operators';
 *
 * const outcomes$ = images$.pipe(
 *   correlate(),
 *   batch({ size: 32, maxWaitMs: 50 }),
 *   classify(client, { deploymentId: 'my-deployment', affiliate: 'my-affiliate', ordered: true }),
 * );
 * ```
 *
 * @param client - the stream side of `AthenaClient` (or any `ClassifyStreamClient`).
 * @param options - `deploymentId` and `affiliate` (required, non-empty; the deployment id at most 63
 *   characters); `maxInFlight` (256), `itemTimeoutMs` (120 000), `keepaliveMs` (15 000, 0 for none),
 *   `stallTimeoutMs` (30 000, 0 for none), `closeTimeoutMs` (10 000), `reconnect`
 *   (`DEFAULT_RECONNECT_POLICY`), `ordered` (false), `retry` (none),
 *   `events` and `foreign` observers, `scheduler` (`asyncScheduler`), `random` (`Math.random`),
 *   `tracerProvider` and `meterProvider` (the global OpenTelemetry providers; see docs/observability.md),
 *   `traceImages` (false: a span per image too) and `traceRefs` (false: put refs on image spans).
 * @throws TypeError or RangeError when an option is invalid.
 */
export function classify(
  client: ClassifyStreamClient,
  options: ClassifyOptions,
): OperatorFunction<ClassifyInput, Outcome> {
  if (typeof client?.classifyStream !== 'function') {
    throw new TypeError('classify needs a client with classifyStream(), such as AthenaClient');
  }
  const config = classifyConfig(options);
  return (source) =>
    new Observable<Outcome>((subscriber) => {
      const session = runSession(client, config, subscriber);
      session.start();
      if (session.closed) return undefined;
      const input = source.subscribe({
        next: (value) => session.input(value),
        error: (error: unknown) => session.end({ error }),
        complete: () => session.end(),
      });
      return () => {
        input.unsubscribe();
        session.close();
      };
    });
}
