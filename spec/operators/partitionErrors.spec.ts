import { defer, firstValueFrom, from, lastValueFrom, toArray, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import { toFailure, type Classified, type ItemFailure, type Outcome } from '../../src/model.js';
import { partitionErrors } from '../../src/operators/partitionErrors.js';

const ok = (ref: string): Classified => ({
  kind: 'classified',
  ok: true,
  ref,
  correlationId: ref,
  classifications: [{ label: 'UnknownCSAM-Trees', weight: 0.5 }],
  labels: { 'UnknownCSAM-Trees': 0.5 },
});
const bad = (ref: string): ItemFailure =>
  toFailure({ ref }, 'classify', new AthenaError('MODEL_ERROR', 'model failed'));

const values = { a: ok('a'), b: ok('b'), x: bad('x'), y: bad('y') };

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** A source counting how often it is subscribed. */
function counted(source: Observable<Outcome>): { source: Observable<Outcome>; subscriptions: () => number } {
  let subscriptions = 0;
  return {
    source: defer(() => {
      subscriptions += 1;
      return source;
    }),
    subscriptions: () => subscriptions,
  };
}

describe('partitionErrors', () => {
  it('completes both sides on an empty source', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const [classified$, failed$] = partitionErrors(cold<Outcome>('|'), { scheduler: ts });
      expectObservable(classified$).toBe('|');
      expectObservable(failed$).toBe('|');
    });
  });

  it('routes one and many values to their side, from one subscription', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Outcome>('a-x-b-y-|', values);
      const [classified$, failed$] = partitionErrors(source, { scheduler: ts });
      expectObservable(classified$).toBe('a---b---|', values);
      expectObservable(failed$).toBe('--x---y-|', values);
      expectSubscriptions(source.subscriptions).toBe('^-------!');
    });
  });

  it('sends an error to both sides', () => {
    const ts = testScheduler();
    const error = new AthenaError('UNAVAILABLE', 'stream broke');
    ts.run(({ cold, expectObservable }) => {
      const [classified$, failed$] = partitionErrors(cold<Outcome>('a-x-#', values, error), {
        scheduler: ts,
      });
      expectObservable(classified$).toBe('a---#', values, error);
      expectObservable(failed$).toBe('--x-#', values, error);
    });
  });

  it('follows a source that never ends', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const [classified$, failed$] = partitionErrors(cold<Outcome>('-a--x-', values), { scheduler: ts });
      expectObservable(classified$).toBe('-a----', values);
      expectObservable(failed$).toBe('----x-', values);
    });
  });

  it('keeps the source while one side is subscribed, and drops the other side values', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Outcome>('a-x-b-y-|', values);
      const [classified$, failed$] = partitionErrors(source, { scheduler: ts });
      expectObservable(classified$, '^-!').toBe('a--', values);
      expectObservable(failed$, '^----!').toBe('--x---', values);
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  it('gives a late side only what comes after it subscribed', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold<Outcome>('x-a-y-|', values);
      const [classified$, failed$] = partitionErrors(source, { scheduler: ts });
      expectObservable(classified$).toBe('--a---|', values);
      expectObservable(failed$, '---^').toBe('----y-|', values);
    });
  });

  it('subscribes a synchronous source once and loses nothing when both sides subscribe together', async () => {
    const all = [values.a, values.x, values.b, values.y];
    const { source, subscriptions } = counted(from(all));
    const [classified$, failed$] = partitionErrors(source);
    const both = Promise.all([
      lastValueFrom(classified$.pipe(toArray())),
      lastValueFrom(failed$.pipe(toArray())),
    ]);
    expect(subscriptions()).toBe(0);
    await expect(both).resolves.toEqual([
      [values.a, values.b],
      [values.x, values.y],
    ]);
    expect(subscriptions()).toBe(1);
  });

  it('hands a side subscribed after the end the same end, without a second run', async () => {
    const { source, subscriptions } = counted(from([values.a, values.x]));
    const [classified$, failed$] = partitionErrors(source);
    await expect(lastValueFrom(classified$.pipe(toArray()))).resolves.toEqual([values.a]);
    await expect(lastValueFrom(failed$.pipe(toArray()))).resolves.toEqual([]);
    expect(subscriptions()).toBe(1);
  });

  it('hands a side subscribed after an error the same error, without a second run', () => {
    const ts = testScheduler();
    const error = new AthenaError('UNAVAILABLE', 'stream broke');
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Outcome>('a-x-#', values, error);
      const [classified$, failed$] = partitionErrors(source, { scheduler: ts });
      expectObservable(classified$).toBe('a---#', values, error);
      expectObservable(failed$, '------^').toBe('------#', undefined, error);
      expectObservable(classified$, '--------^').toBe('--------#', undefined, error);
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  it('hands a late side the error of an asynchronous run, without a second run', async () => {
    const error = new AthenaError('UNAVAILABLE', 'stream broke');
    const { source, subscriptions } = counted(
      defer(async () => {
        await Promise.resolve();
        throw error;
      }),
    );
    const [classified$, failed$] = partitionErrors(source);
    await expect(lastValueFrom(classified$)).rejects.toBe(error);
    await expect(lastValueFrom(failed$)).rejects.toBe(error);
    await expect(lastValueFrom(classified$)).rejects.toBe(error);
    expect(subscriptions()).toBe(1);
  });

  it('never subscribes the source when both sides leave before it starts', async () => {
    const { source, subscriptions } = counted(from([values.a]));
    const [classified$, failed$] = partitionErrors(source);
    classified$.subscribe().unsubscribe();
    failed$.subscribe().unsubscribe();
    await Promise.resolve();
    await new Promise((resolve) => setTimeout(resolve, 1));
    expect(subscriptions()).toBe(0);
  });

  it('starts a new run after both sides unsubscribed mid-run', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Outcome>('a-x-|', values);
      const [classified$, failed$] = partitionErrors(source, { scheduler: ts });
      expectObservable(classified$, '^-!').toBe('a--', values);
      expectObservable(failed$, '^!').toBe('--', values);
      expectObservable(classified$, '----^').toBe('----a---|', values);
      expectSubscriptions(source.subscriptions).toBe(['^-!', '----^---!']);
    });
  });

  it('types the two sides', async () => {
    const [classified$, failed$] = partitionErrors(from([values.a, values.x]));
    const [first, failure] = await Promise.all([firstValueFrom(classified$), firstValueFrom(failed$)]);
    expect(first.labels['UnknownCSAM-Trees']).toBe(0.5);
    expect(failure.error.code).toBe('MODEL_ERROR');
  });

  it('rejects what is not an Observable', () => {
    expect(() => partitionErrors([] as unknown as Observable<Outcome>)).toThrow(TypeError);
    expect(() => partitionErrors(from([]), { scheduler: {} as never })).toThrow(TypeError);
  });
});
