import { EMPTY, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { AthenaError } from '../../../src/errors.js';
import { imageItem, toFailure, type ItemOrFailure } from '../../../src/model.js';
import { mapItems, type ItemWork } from '../../../src/internal/work/item-work.js';

const options = { concurrency: 2, stage: 'compress', code: 'COMPRESS_FAILED' } as const;
const a = imageItem({ ref: 'a', data: new Uint8Array([1]) });
const b = imageItem({ ref: 'b', data: new Uint8Array([2]) });
const failed = toFailure(
  imageItem({ ref: 'f', data: new Uint8Array() }),
  'read',
  new AthenaError('READ_FAILED', 'f'),
);

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('mapItems', () => {
  it('uses the first value of the work and unsubscribes from the rest', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const next = { ...a, ref: 'a2' };
      const work$ = cold<ItemOrFailure>('-x-y-|', { x: next, y: { ...a, ref: 'late' } });
      const source = hot<ItemOrFailure>('-a-|', { a });
      expectObservable(source.pipe(mapItems(() => work$, options))).toBe('--x|', { x: next });
      expectSubscriptions(work$.subscriptions).toBe('-^!');
    });
  });

  it('fails an item whose work completes without a value, and passes failures through untouched', () => {
    scheduler().run(({ hot, expectObservable }) => {
      const source = hot<ItemOrFailure>('-a-f-|', { a, f: failed });
      const work: ItemWork = () => EMPTY;
      expectObservable(source.pipe(mapItems(work, options))).toBe('-e-f-|', {
        e: toFailure(a, 'compress', new AthenaError('COMPRESS_FAILED', 'compress produced no result')),
        f: failed,
      });
    });
  });

  it('turns what the work throws into a failure at its stage, keeping an AthenaError as thrown', () => {
    const boom = new Error('boom');
    scheduler().run(({ cold, hot, expectObservable }) => {
      const source = hot<ItemOrFailure>('-a-b---|', { a, b });
      const work = (item: ItemOrFailure): Observable<ItemOrFailure> =>
        item.ref === 'a'
          ? cold('--#', undefined, boom)
          : cold('#', undefined, new AthenaError('DECODE_FAILED', 'bad'));
      const out = source.pipe(mapItems(work as ItemWork, options));
      expectObservable(out).toBe('---(ab)|', {
        a: toFailure(a, 'compress', AthenaError.from(boom, 'COMPRESS_FAILED')),
        b: toFailure(b, 'compress', new AthenaError('DECODE_FAILED', 'bad')),
      });
    });
  });
});
