import { type SchedulerLike, type Subscription } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import {
  imageItem,
  toFailure,
  type ImageBatch,
  type ImageItem,
  type ItemOrFailure,
} from '../../src/model.js';
import { batch, DEFAULT_BATCH_MAX_BYTES } from '../../src/operators/batch.js';

const img = (ref: string, bytes = 1): ImageItem => imageItem({ ref, data: new Uint8Array(bytes) });
const group = (...items: ImageItem[]): ImageBatch => ({
  kind: 'batch',
  items,
  bytes: items.reduce((sum, item) => sum + item.data.byteLength, 0),
});

const a = img('a', 4);
const b = img('b', 4);
const c = img('c', 4);
const d = img('d', 4);
const f = toFailure(img('f'), 'decode', new AthenaError('DECODE_FAILED', 'bad bytes'));
const values = { a, b, c, d, f };

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('batch', () => {
  it('completes at once on an empty source', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<ItemOrFailure>('|').pipe(batch())).toBe('|');
    });
  });

  it('emits one image as a batch on completion', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold<ItemOrFailure>('a-|', values);
      expectObservable(source.pipe(batch({ maxWaitMs: 100, scheduler: ts }))).toBe('--(x|)', {
        x: group(a),
      });
    });
  });

  it('flushes on size, then the remainder on completion', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold<ItemOrFailure>('abcd-|', values);
      expectObservable(source.pipe(batch({ size: 3, maxWaitMs: 100, scheduler: ts }))).toBe('--x--(y|)', {
        x: group(a, b, c),
        y: group(d),
      });
    });
  });

  it('flushes when the oldest image has waited maxWaitMs', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold<ItemOrFailure>('a-b 5ms c 9ms |', values);
      // a at 0, b at 2, c at 8: the first batch leaves at 5 (a waited 5), c's at 13.
      expectObservable(source.pipe(batch({ size: 10, maxWaitMs: 5, scheduler: ts }))).toBe(
        '5ms x 7ms y 4ms |',
        { x: group(a, b), y: group(c) },
      );
    });
  });

  it('never lets a batch exceed maxBytes, and sends an oversized image alone', () => {
    const ts = testScheduler();
    const big = img('big', 20);
    const small = img('s', 3);
    ts.run(({ cold, expectObservable }) => {
      // a(4) b(4) then big(20): [a, b] leaves, big goes alone; s(3) + c(4) fit and leave on completion.
      const source = cold<ItemOrFailure>('abg 9ms sc|', { ...values, g: big, s: small });
      expectObservable(source.pipe(batch({ maxBytes: 10, maxWaitMs: 100, scheduler: ts }))).toBe(
        '--(xy) 8ms (z|)',
        { x: group(a, b), y: group(big), z: group(small, c) },
      );
    });
  });

  it('flushes when a batch reaches maxBytes exactly', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold<ItemOrFailure>('ab-c-|', values);
      expectObservable(source.pipe(batch({ maxBytes: 8, maxWaitMs: 100, scheduler: ts }))).toBe('-x---(y|)', {
        x: group(a, b),
        y: group(c),
      });
    });
  });

  it('passes failures and other values through at once, ahead of waiting images', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold<ItemOrFailure | string>('a-f-s-|', { ...values, s: 'not an image' });
      expectObservable(source.pipe(batch({ maxWaitMs: 100, scheduler: ts }))).toBe('--f-s-(x|)', {
        f,
        s: 'not an image',
        x: group(a),
      });
    });
  });

  it('emits the open batch before an error', () => {
    const ts = testScheduler();
    const error = new AthenaError('UNAVAILABLE', 'gone');
    ts.run(({ cold, expectObservable }) => {
      const source = cold<ItemOrFailure>('ab-#', values, error);
      expectObservable(source.pipe(batch({ maxWaitMs: 100, scheduler: ts }))).toBe(
        '---(x#)',
        { x: group(a, b) },
        error,
      );
    });
  });

  it('keeps emitting on time from a source that never ends', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold<ItemOrFailure>('a 9ms b-', values);
      expectObservable(source.pipe(batch({ maxWaitMs: 3, scheduler: ts }))).toBe('3ms x 6ms --- y', {
        x: group(a),
        y: group(b),
      });
    });
  });

  it('drops the open batch and clears its timer on early unsubscribe', () => {
    const ts = testScheduler();
    const timers: Subscription[] = [];
    const closedAfterUnsubscribe: boolean[][] = [];
    const recording: SchedulerLike = {
      now: () => ts.now(),
      schedule: (work, delay, state) => {
        const timer = ts.schedule(work as never, delay, state);
        timers.push(timer);
        return timer;
      },
    };
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<ItemOrFailure>('ab-------|', values);
      expectObservable(source.pipe(batch({ maxWaitMs: 5, scheduler: recording })), '^--!').toBe('----');
      expectSubscriptions(source.subscriptions).toBe('^--!');
      // Look at frame 4: after the unsubscribe at 3, before the timer would fire at 5.
      ts.schedule(() => closedAfterUnsubscribe.push(timers.map((timer) => timer.closed)), 4);
    });
    expect(closedAfterUnsubscribe).toEqual([[true]]);
  });

  it('keeps state per subscription', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const batched = cold<ItemOrFailure>('ab|', values).pipe(batch({ size: 3, scheduler: ts }));
      expectObservable(batched).toBe('--(x|)', { x: group(a, b) });
      expectObservable(batched).toBe('--(x|)', { x: group(a, b) });
    });
  });

  it('uses the documented defaults: 32 images, 50 ms', () => {
    expect(DEFAULT_BATCH_MAX_BYTES).toBe(24 * 1024 * 1024);
    const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFG';
    const all = [...letters].map((letter) => img(letter));
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold<ItemOrFailure>(`(${letters})`, Object.fromEntries(all.map((x) => [x.ref, x])));
      expectObservable(source.pipe(batch({ scheduler: ts }))).toBe('x 49ms y', {
        x: group(...all.slice(0, 32)),
        y: group(...all.slice(32)),
      });
    });
  });

  it.each([
    [{ size: 0 }, RangeError],
    [{ size: 1001 }, RangeError],
    [{ size: 2.5 }, TypeError],
    [{ maxWaitMs: -1 }, RangeError],
    [{ maxWaitMs: Number.NaN }, TypeError],
    [{ maxBytes: 0 }, RangeError],
    [{ scheduler: {} as SchedulerLike }, TypeError],
  ])('rejects %o at factory time', (options, type) => {
    expect(() => batch(options)).toThrow(type);
  });
});
