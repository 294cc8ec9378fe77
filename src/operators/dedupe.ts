import { Observable, Subject, type OperatorFunction } from 'rxjs';
import { AthenaError } from '../errors.js';
import { toFailure, type ImageItem, type ItemFailure, type ItemOrFailure, type Outcome } from '../model.js';
import {
  cacheEntryOf,
  cachedOutcome,
  contentKey,
  createDedupeCache,
  type CachedClassification,
  type DedupeCache,
  type DedupeCacheOptions,
} from '../internal/dedupe/cache.js';
import { createFlights } from '../internal/dedupe/flights.js';

import { assertFunction, assertString } from '../internal/core/validate.js';

export { createDedupeCache, type CachedClassification, type DedupeCache, type DedupeCacheOptions };

export interface DedupeOptions extends DedupeCacheOptions {
  /** A cache from {@link createDedupeCache}, shared across runs; its own bounds apply. */
  readonly cache?: DedupeCache;
  /** What makes two items the same; undefined means "do not dedupe this one". Default: scope + SHA1 (or MD5). */
  readonly key?: (item: ImageItem) => string | undefined;
  /** Set it to what else decides the result: deployment, affiliate, preparation options. Default ''. */
  readonly scope?: string;
}

/**
 * Skips classifying content already classified: wraps the pipeline that classifies, and answers a
 * repeat of known content from a cache.
 *
 * ```text
 * the pipeline answers each image 3 ms after it gets it; a, c and d have the same content
 * source:  --a--b---c----d--|
 * output:  -----A--BC----D-----|     only a and b go through the pipeline; C and D are a's result
 * ```
 *
 * An item whose key is in the cache gets the cached `Classified`, marked `cached: true`, with its
 * own ref, correlation id, index and meta; its lease is released as that outcome is emitted. A
 * repeat whose first copy is still in the pipeline waits for it and gets the same result: the
 * classification marked cached, or a copy of the failure. Failures are not cached. Items without a
 * key (no hashes: put `hashImage()` first) and failures go through the pipeline. Every input gets
 * exactly one outcome. The cache is per subscription unless `cache` is given.
 *
 * The default key is `scope` plus the item's SHA1 (or MD5) of the original bytes: set `scope` to
 * everything else that changes the result (deployment, affiliate, preparation options).
 *
 * @example
 * ```ts
 * import { batch, classify, correlate, createDedupeCache, dedupe, hashImage, resize } from 'athena-rx/operators';
 *
 * const cache = createDedupeCache({ maxEntries: 50_000, ttlMs: 6 * 3_600_000 });
 * items$.pipe(
 *   hashImage(),
 *   dedupe({ cache, scope: `${deploymentId}/448-bgr` }, (items$) =>
 *     items$.pipe(resize(), correlate(), batch(), classify(client, { deploymentId, affiliate })),
 *   ),
 * );
 * ```
 *
 * @param options - `cache`, `key`, `scope` (''), or the bounds of a new cache per subscription:
 *   `maxEntries` (10,000), `maxBytes` (16 MiB), `ttlMs` (1 hour).
 * @param pipeline - turns items into outcomes, one per item (usually ends with `classify`).
 */
export function dedupe(
  options: DedupeOptions,
  pipeline: OperatorFunction<ItemOrFailure, Outcome>,
): OperatorFunction<ItemOrFailure, Outcome> {
  assertFunction('pipeline', pipeline);
  const { cache: shared, key: customKey } = options;
  const bounded = options.maxEntries ?? options.maxBytes ?? options.ttlMs;
  if (shared !== undefined && bounded !== undefined) {
    throw new TypeError('give the bounds to createDedupeCache() when passing a cache');
  }
  if (shared !== undefined && (typeof shared.get !== 'function' || typeof shared.set !== 'function')) {
    throw new TypeError('cache must come from createDedupeCache()');
  }
  if (shared === undefined) createDedupeCache(options); // validates the bounds now
  const scope = assertString('scope', options.scope ?? '', { allowEmpty: true });
  const keyOf =
    customKey === undefined
      ? (item: ImageItem) => contentKey(scope, item)
      : assertFunction<typeof customKey>('key', customKey);
  return (source) =>
    new Observable<Outcome>((subscriber) => {
      const cache = shared ?? createDedupeCache(options);
      const input = new Subject<ItemOrFailure>();
      const flights = createFlights();
      const answer = (item: ImageItem, result: CachedClassification | ItemFailure): void => {
        const outcome =
          'error' in result ? toFailure(item, result.stage, result.error) : cachedOutcome(item, result);
        subscriber.next(outcome);
        item.trace?.end(outcome);
        item.lease?.release();
      };
      const inner = pipeline(input).subscribe({
        next: (outcome) => {
          const flight = flights.settle(outcome);
          const result = outcome.kind === 'classified' ? cacheEntryOf(outcome) : outcome;
          if (flight !== undefined && outcome.kind === 'classified')
            cache.set(flight.key, cacheEntryOf(outcome));
          subscriber.next(outcome);
          for (const waiter of flight?.waiters ?? []) answer(waiter, result);
        },
        error: (error: unknown) => {
          const failure = toFailure({ ref: '' }, 'transport', AthenaError.from(error));
          for (const waiter of flights.drain()) answer(waiter, failure);
          subscriber.error(error);
        },
        complete: () => {
          const closed = new AthenaError(
            'CLOSED',
            'the pipeline ended without an outcome for the first copy',
          );
          for (const waiter of flights.drain()) answer(waiter, toFailure(waiter, 'classify', closed));
          subscriber.complete();
        },
      });
      const outer = source.subscribe({
        next: (value) => {
          if (value.kind !== 'image') return input.next(value);
          let key: string | undefined;
          try {
            key = keyOf(value);
          } catch (error) {
            return input.next(toFailure(value, 'validate', AthenaError.from(error, 'INVALID_INPUT')));
          }
          if (typeof key !== 'string' || key.length === 0) return input.next(value);
          const hit = cache.get(key);
          if (hit !== undefined) return answer(value, hit);
          if (!flights.join(key, value)) input.next(flights.start(key, value));
        },
        error: (error: unknown) => input.error(error),
        complete: () => input.complete(),
      });
      return () => {
        outer.unsubscribe();
        inner.unsubscribe();
      };
    });
}
