import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import { imageItem, toFailure, type ImageBatch, type ImageItem, type RailwayValue } from '../../src/model.js';
import { releaseLeases } from '../../src/operators/releaseLeases.js';

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** Values whose leases record, in `released`, the frame-free order of releases. */
function fixture() {
  const released: string[] = [];
  const lease = (name: string) => ({ release: () => released.push(name) });
  const a = imageItem({ ref: 'a', data: new Uint8Array([1]), lease: lease('a') });
  const b = imageItem({ ref: 'b', data: new Uint8Array([1]), lease: lease('b') });
  const f = toFailure({ ref: 'f', lease: lease('f') }, 'read', new AthenaError('READ_FAILED', 'x'));
  const n = imageItem({ ref: 'n', data: new Uint8Array([1]) });
  const items: ImageItem[] = [
    imageItem({ ref: 'p', data: new Uint8Array([1]), lease: lease('p') }),
    imageItem({ ref: 'q', data: new Uint8Array([1]), lease: lease('q') }),
  ];
  const batch: ImageBatch = { kind: 'batch', items, bytes: 2 };
  return { released, values: { a, b, f, n, x: batch } as Record<string, RailwayValue> };
}

describe('releaseLeases', () => {
  it('passes an empty source', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<RailwayValue>('|').pipe(releaseLeases())).toBe('|');
    });
  });

  it('releases the lease of one value as it passes', () => {
    const { released, values } = fixture();
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a|', values).pipe(releaseLeases())).toBe('-a|', values);
    });
    expect(released).toEqual(['a']);
  });

  it('releases many, failures and the items of a batch included; values without a lease pass', () => {
    const { released, values } = fixture();
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-f-n-x-b|', values).pipe(releaseLeases())).toBe('-a-f-n-x-b|', values);
    });
    expect(released).toEqual(['a', 'f', 'p', 'q', 'b']);
  });

  it('passes an error on', () => {
    const { released, values } = fixture();
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a#', values).pipe(releaseLeases())).toBe('-a#', values);
    });
    expect(released).toEqual(['a']);
  });

  it('keeps going on a never-ending source, and releases nothing after unsubscribe', () => {
    const { released, values } = fixture();
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a---b-', values).pipe(releaseLeases()), '^--!').toBe('-a-', values);
      expectObservable(cold('-a--', values).pipe(releaseLeases())).toBe('-a--', values);
    });
    expect(released).toEqual(['a', 'a']);
  });
});
