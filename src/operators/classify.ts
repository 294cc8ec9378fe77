import { Observable, type OperatorFunction } from 'rxjs';
import type { Outcome } from '../model.js';
import type { ClassifyStreamClient } from '../transport/contracts.js';
import { classifyConfig, type ClassifyOptions } from '../internal/classify-options.js';
import { createClassifySession, type ClassifyInput } from '../internal/classify-session.js';

export type { ClassifyOptions, ClassifyInput };

/**
 * Classifies images over one bidirectional `Classify` stream per subscription, and turns every input
 * image into exactly one {@link Outcome}. Failures and already classified values pass through as they
 * are; an `ImageBatch` is written as one request, a lone item as a batch of one.
 *
 * ```text
 * input:    --a--[bc]--f--------|          (f: an ItemFailure from upstream)
 * stream:   --A--[BC]---->-b-a-c-|          (requests written; outputs in any order)
 * output:   -----------f--b-a-c|           (one outcome per image; `ordered: true` gives a-b-c-f)
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
 * - At most `maxInFlight` items are written and not yet emitted (a larger batch is written alone);
 *   further input waits. Upstream flow control comes from leases: each outcome's `lease` is released
 *   right after it is emitted.
 * - An item without an output after `itemTimeoutMs` fails at stage `timeout` (`TIMEOUT`); a late
 *   output is then a duplicate. An empty request keeps an idle stream alive every `keepaliveMs`.
 * - A broken stream (`UNAVAILABLE`, `INTERNAL`, `UNKNOWN`, `RESOURCE_EXHAUSTED`, `ABORTED`, or the
 *   server ending the call with items unanswered) is opened again under `reconnect` with jittered
 *   backoff, writing only the unanswered items again with their ids (outputs of the first sends that
 *   still wait on the deployment then come twice; the second is dropped). `UNAUTHENTICATED` is tried
 *   once more. When the budget is spent, or at once for other statuses, every pending item fails at
 *   stage `transport` and then the error is reported.
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
 *   `closeTimeoutMs` (10 000), `reconnect` (retry policy defaults), `ordered` (false), `retry` (none),
 *   `events` and `foreign` observers, `scheduler` (`asyncScheduler`), `random` (`Math.random`).
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
      const session = createClassifySession(client, config, subscriber);
      session.start();
      if (subscriber.closed) return undefined;
      const input = source.subscribe({
        next: (value) => session.input(value),
        error: (error: unknown) => session.error(error),
        complete: () => session.complete(),
      });
      return () => {
        input.unsubscribe();
        session.close();
      };
    });
}
