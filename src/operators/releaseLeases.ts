import { tap, type MonoTypeOperatorFunction } from 'rxjs';
import { type RailwayValue } from '../model.js';

/**
 * Releases the flow-control lease of every value as it passes, so the source reads the next items.
 *
 * ```text
 * each value holds one credit of the source's window
 * source:  --a--b--F--|
 * output:  --a--b--F--|     the same values; each credit given back as its value passes
 * ```
 *
 * Sources read at most `window` items ahead of released leases (see `fromFiles`). `classify`
 * releases leases as it emits outcomes; a pipeline that does not classify (preparing images to
 * disk, hashing, counting) ends with `releaseLeases()`, or the source stops after `window` items.
 * Put it where a value no longer holds memory worth bounding: usually last. For a batch, the lease
 * of each of its items is released. An item a `filter` drops keeps its credit: release it there
 * (`filter((v) => keep(v) || (v.lease?.release(), false))`) or put `releaseLeases()` before the
 * filter. Releasing twice is harmless.
 *
 * The lease is released before the value is passed on, so a source may start reading its next item
 * while this one is still being handled downstream: the window counts items in the part of the
 * pipeline before this operator. Values without a lease (built by hand, not from a source) pass
 * unchanged.
 *
 * @example
 * ```ts
 * import { fromDirectory } from 'athena-rx/sources';
 * import { hashImage, releaseLeases } from 'athena-rx/operators';
 *
 * fromDirectory('./inbox').pipe(hashImage(), releaseLeases()).subscribe(writeHashes);
 * ```
 *
 * @returns an operator that emits every value unchanged.
 */
export function releaseLeases<T extends RailwayValue>(): MonoTypeOperatorFunction<T> {
  return tap((value: T) => {
    if (value.kind === 'batch') {
      for (const item of value.items) item.lease?.release();
    } else {
      value.lease?.release();
    }
  });
}
