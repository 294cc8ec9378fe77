import { map, type OperatorFunction } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import { toFailure, type Outcome } from '../../src/model.js';
import {
  accountRun,
  chunkRefs,
  NO_PROGRESS,
  progressStep,
  type RunEvent,
  type RunSignal,
} from '../../src/queue/progress.js';

const scheduler = (): TestScheduler =>
  new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

const ok = (ref: string): Outcome => ({
  kind: 'classified',
  ok: true,
  ref,
  correlationId: ref,
  classifications: [],
  labels: {},
});
const failed = (ref: string): Outcome => toFailure({ ref }, 'read', new AthenaError('READ_FAILED', 'gone'));

describe('chunkRefs', () => {
  it('cuts refs into numbered chunks, the last one shorter', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const refs = cold('-a-b-c-d-e|');
      expectObservable(refs.pipe(chunkRefs(2))).toBe('---x---y--(z|)', {
        x: { index: 0, refs: ['a', 'b'] },
        y: { index: 1, refs: ['c', 'd'] },
        z: { index: 2, refs: ['e'] },
      });
    });
  });

  it('gives no chunk for no refs, passes errors on, and stops on unsubscribe', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      expectObservable(cold('|').pipe(chunkRefs(3))).toBe('|');
      expectObservable(cold('-a-#').pipe(chunkRefs(3))).toBe('---#');
      const never = cold('-a-b-c-d-');
      expectObservable(never.pipe(chunkRefs(3)), '^------!').toBe('-----x-', {
        x: { index: 0, refs: ['a', 'b', 'c'] },
      });
      expectSubscriptions(never.subscriptions).toBe('^------!');
    });
  });

  it('checks its size when called', () => {
    expect(() => chunkRefs(0)).toThrow(RangeError);
    expect(() => chunkRefs(1.5)).toThrow(TypeError);
  });
});

describe('progressStep', () => {
  it('counts outcomes, keeps pending unknown until the total is, and is complete at pending 0', () => {
    let p = progressStep(NO_PROGRESS, { kind: 'outcome', outcome: ok('a') });
    expect(p).toMatchObject({ done: 1, failed: 0, pending: undefined, complete: false });
    p = progressStep(p, { kind: 'total', total: 3 });
    expect(p).toMatchObject({ total: 3, pending: 2, complete: false });
    p = progressStep(p, { kind: 'workers', count: 2 });
    p = progressStep(p, { kind: 'dead-letter', chunk: 4, error: new AthenaError('READ_FAILED', 'x') });
    p = progressStep(p, { kind: 'outcome', outcome: failed('b') });
    expect(p).toMatchObject({
      done: 1,
      failed: 1,
      pending: 1,
      workersAlive: 2,
      deadLetters: 1,
      complete: false,
    });
    p = progressStep(p, { kind: 'outcome', outcome: ok('c') });
    expect(p).toMatchObject({ done: 2, failed: 1, pending: 0, complete: true });
  });

  it('a run with no refs is complete as soon as its total is known', () => {
    expect(progressStep(NO_PROGRESS, { kind: 'total', total: 0 }).complete).toBe(true);
  });
});

describe('accountRun', () => {
  const values: Record<string, RunSignal> = {
    t: { kind: 'total', total: 3 },
    w: { kind: 'workers', count: 2 },
    a: { kind: 'outcome', outcome: ok('a') },
    b: { kind: 'outcome', outcome: failed('b') },
    c: { kind: 'outcome', outcome: ok('c') },
    d: { kind: 'dead-letter', chunk: 1, error: new AthenaError('READ_FAILED', 'x') },
    u: { kind: 'caught-up' },
  };

  it('following: emits each outcome with its progress and completes at the last ref, unsubscribing the source', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const signals = cold('-t--a--w--b--u--c--a-', values);
      const kinds = { p: 'progress', o: 'outcome' };
      expectObservable(accountRun(true)(signals).pipe(mapKind())).toBe('-p--o--p--o--p--(o|)', kinds);
      expectSubscriptions(signals.subscriptions).toBe('^---------------!');
    });
  });

  it('without following: completes when caught up, with the progress so far', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const signals = cold('-t--a--d--u--c-', values);
      expectObservable(accountRun(false)(signals).pipe(mapPending())).toBe('-x--y--y--(y|)', { x: 3, y: 2 });
    });
  });

  it('passes the source error on, and keeps state per subscription', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const signals = cold('-t--a--#', values);
      const run = accountRun(true);
      expectObservable(run(signals).pipe(mapPending())).toBe('-x--y--#', { x: 3, y: 2 });
      expectObservable(run(signals).pipe(mapPending())).toBe('-x--y--#', { x: 3, y: 2 });
    });
  });

  it('never completes while a run is pending and the source stays open', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(accountRun(true)(cold('-t--a-', values)).pipe(mapPending())).toBe('-x--y-', {
        x: 3,
        y: 2,
      });
    });
  });
});

function mapKind(): OperatorFunction<RunEvent, string> {
  return map((e) => e.kind);
}
function mapPending(): OperatorFunction<RunEvent, number | undefined> {
  return map((e) => e.progress.pending);
}
