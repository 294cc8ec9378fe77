import { defer, from, map, of, type ObservableInput, type OperatorFunction } from 'rxjs';
import { AthenaError } from '../errors.js';
import { toFailure, type ImageItem, type ItemOrFailure, type Lease } from '../model.js';
import { mapItems } from '../internal/work/item-work.js';
import { MAX_ID_LENGTH } from '../internal/core/limits.js';
import { assertFunction, describe } from '../internal/core/validate.js';

/** Where correlation ids come from: random UUIDs, the content's digest, or your own function. */
export type CorrelationProvider = 'uuid' | 'content' | ((item: ImageItem, index: number) => string);

export interface CorrelateOptions {
  /** Default `'uuid'`. */
  readonly provider?: CorrelationProvider;
  /** Replace ids items already have. Default false. */
  readonly overwrite?: boolean;
  /** SHA-256 of the data as hex, for `'content'`; default Web Crypto. For tests. */
  readonly digest?: (data: Uint8Array) => ObservableInput<string>;
}

/** The longest correlation id that is safe with the service. */
export const MAX_CORRELATION_ID_LENGTH = MAX_ID_LENGTH;

const sha256: (data: Uint8Array) => Promise<string> = async (data) => {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', data);
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
};

/**
 * Gives each item a correlation id, unique among the items in flight, of at most 63 characters.
 *
 * ```text
 * provider (item, index) => `id${index}`; c already has the id x; F a failure
 * source:  --a--b--c--F--|
 * output:  --A--B--c--F--|     A, B with the ids id0, id1; c keeps x; failures pass
 * ```
 *
 * Providers: `'uuid'` (default, `crypto.randomUUID()`); `'content'`, the first 40 hex digits of
 * the data's SHA-256, with `-1`, `-2` ... appended while the same content is already in flight in
 * this subscription (repeatable ids for the same bytes); or `(item, index) => string`, `index`
 * counting the items this operator saw in this subscription. An id is in flight from the moment it
 * is given until the item's lease is released (by `classify` when its outcome is emitted, or by
 * `releaseLeases()`); ids of items without a lease stay taken for the whole subscription. An id
 * from your function that is not a string, empty or longer than 63 characters gives a `correlate`
 * failure `INVALID_ID` (so does a throw), one already in flight `DUPLICATE_ID`. Items that already
 * have an id keep it unless `overwrite` is true. Uses no Node modules (Web Crypto).
 *
 * @example
 * ```ts
 * import { correlate } from 'athena-rx/operators';
 *
 * items$.pipe(correlate({ provider: (item) => `upload-${item.meta?.['uploadId']}` }));
 * ```
 *
 * @param options - `provider` (`'uuid'`), `overwrite` (false), `digest`.
 */
export function correlate(options: CorrelateOptions = {}): OperatorFunction<ItemOrFailure, ItemOrFailure> {
  const provider = options.provider ?? 'uuid';
  if (provider !== 'uuid' && provider !== 'content') assertFunction('provider', provider);
  const overwrite = options.overwrite ?? false;
  if (typeof overwrite !== 'boolean') throw new TypeError('overwrite must be a boolean');
  const digest =
    options.digest === undefined ? sha256 : assertFunction<typeof sha256>('digest', options.digest);
  return (source) =>
    defer(() => {
      const inFlight = new Set<string>();
      let seen = 0;
      const assign = (item: ImageItem, id: string): ImageItem => {
        inFlight.add(id);
        const lease = item.lease;
        if (lease === undefined) return { ...item, correlationId: id };
        let held = true;
        const tracked: Lease = {
          release: () => {
            if (!held) return;
            held = false;
            inFlight.delete(id);
            lease.release();
          },
        };
        return { ...item, correlationId: id, lease: tracked };
      };
      return source.pipe(
        mapItems(
          (item) => {
            const index = seen++;
            if (item.correlationId !== undefined && !overwrite) return of(item);
            if (provider === 'uuid') return of({ ...item, correlationId: globalThis.crypto.randomUUID() });
            if (provider === 'content') {
              return from(digest(item.data)).pipe(
                map((hex) => {
                  const base = hex.slice(0, 40);
                  let id = base;
                  for (let n = 1; inFlight.has(id); n += 1) id = `${base}-${n}`;
                  return assign(item, id);
                }),
              );
            }
            const id: unknown = provider(item, index);
            if (typeof id !== 'string' || id.length === 0 || id.length > MAX_CORRELATION_ID_LENGTH) {
              const message = `${item.ref}: correlation id must be a string of 1 to ${MAX_CORRELATION_ID_LENGTH} characters, got ${describe(id)}`;
              return of(toFailure(item, 'correlate', new AthenaError('INVALID_ID', message)));
            }
            if (inFlight.has(id)) {
              const message = `${item.ref}: correlation id ${JSON.stringify(id)} is already in flight`;
              return of(toFailure(item, 'correlate', new AthenaError('DUPLICATE_ID', message)));
            }
            return of(assign(item, id));
          },
          { concurrency: 1, stage: 'correlate', code: 'INVALID_ID' },
        ),
      );
    });
}
