import { type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import { imageItem, toFailure, type Classified, type ImageBatch, type Outcome } from '../../src/model.js';
import { createProgress, progress, type ProgressSnapshot } from '../../src/operators/progress.js';
import { type ClassifyEvent } from '../../src/transport/contracts.js';

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** `run` with virtual time stopped at 1 s, so a timer that never stops fails a test instead of hanging it. */
function bounded(ts: TestScheduler, callback: Parameters<TestScheduler['run']>[0]): void {
  ts.run((helpers) => {
    ts.maxFrames = 1000;
    callback(helpers);
  });
}

const image = (ref: string) => imageItem({ ref, data: new Uint8Array(10) });
const classified = (ref: string): Classified => ({
  kind: 'classified',
  ok: true,
  ref,
  correlationId: ref,
  classifications: [],
  labels: {},
});
const outcomes = {
  c: classified('c'),
  d: classified('d'),
  f: toFailure({ ref: 'f' }, 'decode', new AthenaError('DECODE_FAILED', 'not an image')),
  u: toFailure({ ref: 'u' }, 'classify', new AthenaError('UNKNOWN', 'new code', { serviceCode: 42 })),
};
const events: Record<string, ClassifyEvent> = {
  s: { type: 'sent', items: 3, bytes: 1000 },
  k: { type: 'keepalive' },
  r: { type: 'reconnect', attempt: 1, delayMs: 5, error: new Error('reset') },
  e: { type: 'resent', items: 2 },
  o: { type: 'foreign', correlationId: 'other' },
  d: { type: 'duplicate', correlationId: 'c' },
  g: { type: 'global-error', items: 3, error: new Error('batch failed') },
  t: { type: 'retry', correlationId: 'u', attempt: 2 },
  l: { type: 'stall', afterMs: 30_000, items: 2 },
  x: { type: 'from-a-later-version' } as unknown as ClassifyEvent,
};

const pick = (s: ProgressSnapshot) => ({
  status: s.status,
  elapsedMs: s.elapsedMs,
  completed: s.completed,
  inFlight: s.inFlight,
  ratePerSecond: s.ratePerSecond,
  etaMs: s.etaMs,
});

describe('createProgress', () => {
  it('reports every figure of a scripted run, every interval and at the end', () => {
    const ts = testScheduler();
    const snapshots: ProgressSnapshot[] = [];
    const tracker = createProgress({ total: 4, intervalMs: 10, windowMs: 20, scheduler: ts });
    bounded(ts, ({ cold, expectObservable }) => {
      const batchOfThree: ImageBatch = {
        kind: 'batch',
        items: [image('b1'), image('b2'), image('b3')],
        bytes: 30,
      };
      cold<unknown>('a-B|', { a: image('a'), B: batchOfThree })
        .pipe(tracker.countInputs())
        .subscribe();
      const outcomes$ = cold<Outcome>('5ms c-f 7ms u 9ms d|', outcomes).pipe(tracker.countOutcomes());
      expectObservable(outcomes$).toBe('5ms c-f 7ms u 9ms d|', outcomes);
      cold('---s 4ms kreodgtxl', events).subscribe(tracker.events);
      tracker.snapshots$.subscribe((s) => snapshots.push(s));
    });
    expect(snapshots.map(pick)).toEqual([
      // the first input arrived at 0, before the first tick
      { status: 'running', elapsedMs: 0, completed: 0, inFlight: 1, ratePerSecond: 0, etaMs: undefined },
      // outcomes at 5 and 7 within 10 ms: 200/s; 2 left: 10 ms
      { status: 'running', elapsedMs: 10, completed: 2, inFlight: 2, ratePerSecond: 200, etaMs: 10 },
      // outcomes at 5, 7 and 15 within the 20 ms window: 150/s; 1 left
      { status: 'running', elapsedMs: 20, completed: 3, inFlight: 1, ratePerSecond: 150, etaMs: 7 },
      // the end at 26: the outcome at 5 has left the window (7, 15, 25 remain)
      { status: 'complete', elapsedMs: 26, completed: 4, inFlight: 0, ratePerSecond: 150, etaMs: 0 },
    ]);
    const last = snapshots[snapshots.length - 1];
    expect(last).toMatchObject({
      submitted: 4,
      classified: 2,
      failed: 2,
      failedByStage: { decode: 1, classify: 1 },
      failedByCode: { DECODE_FAILED: 1, UNKNOWN_42: 1 },
      requestsSent: 1,
      itemsSent: 3,
      bytesSent: 1000,
      keepalives: 1,
      reconnects: 1,
      stalls: 1,
      resent: 2,
      foreign: 1,
      duplicates: 1,
      globalErrors: 1,
      retries: 1,
      total: 4,
      fraction: 1,
    });
  });

  it('freezes the figures at the end and replays the last snapshot to late subscribers', () => {
    const ts = testScheduler();
    const tracker = createProgress({ scheduler: ts });
    const late: ProgressSnapshot[] = [];
    bounded(ts, ({ cold, expectObservable }) => {
      cold<Outcome>('-c|', outcomes).pipe(tracker.countOutcomes()).subscribe();
      ts.schedule(
        () => tracker.snapshots$.subscribe({ next: (s) => late.push(s), complete: () => late.push() }),
        50,
      );
      expectObservable(tracker.snapshots$).toBe('x-(y|)', {
        x: expect.objectContaining({ status: 'running', completed: 0 }),
        y: expect.objectContaining({ status: 'complete', completed: 1, elapsedMs: 2 }),
      });
    });
    expect(late).toHaveLength(1);
    expect(late[0]).toMatchObject({ status: 'complete', elapsedMs: 2 });
    expect(tracker.snapshot().elapsedMs).toBe(2);
  });

  it('is idle and empty before anything runs', () => {
    const tracker = createProgress();
    expect(tracker.snapshot()).toMatchObject({ status: 'idle', submitted: 0, completed: 0, elapsedMs: 0 });
    expect(tracker.snapshot().total).toBeUndefined();
    tracker.setTotal(10);
    expect(tracker.snapshot()).toMatchObject({ total: 10, fraction: 0 });
    expect(tracker.snapshot().etaMs).toBeUndefined();
  });

  it('ends with an error status when the outcomes error, and cancelled on unsubscribe', () => {
    const ts = testScheduler();
    const failing = createProgress({ scheduler: ts });
    const dropped = createProgress({ scheduler: ts });
    bounded(ts, ({ cold, expectObservable }) => {
      expectObservable(cold<Outcome>('-c#', outcomes).pipe(failing.countOutcomes()), '^').toBe(
        '-c#',
        outcomes,
      );
      expectObservable(cold<Outcome>('-c----', outcomes).pipe(dropped.countOutcomes()), '^--!').toBe(
        '-c-',
        outcomes,
      );
      expectObservable(dropped.snapshots$).toBe('x--(y|)', {
        x: expect.objectContaining({ status: 'running' }),
        y: expect.objectContaining({ status: 'cancelled', completed: 1, elapsedMs: 3 }),
      });
    });
    expect(failing.snapshot()).toMatchObject({ status: 'error', completed: 1 });
  });

  it('keeps ticking while the run never ends, and stops ticking on unsubscribe', () => {
    const ts = testScheduler();
    const tracker = createProgress({ intervalMs: 3, scheduler: ts });
    bounded(ts, ({ cold, expectObservable }) => {
      cold<Outcome>('-c-', outcomes).pipe(tracker.countOutcomes()).subscribe();
      const ticks = tracker.snapshots$ as Observable<unknown>;
      expectObservable(ticks, '^-------!').toBe('a--b--c-', {
        a: expect.objectContaining({ completed: 0 }),
        b: expect.objectContaining({ completed: 1 }),
        c: expect.objectContaining({ completed: 1, elapsedMs: 6 }),
      });
    });
  });

  it('ends by hand for pipelines without countOutcomes', () => {
    const tracker = createProgress();
    tracker.events.next({ type: 'keepalive' });
    tracker.complete();
    expect(tracker.snapshot()).toMatchObject({ status: 'complete', keepalives: 1 });
  });

  it.each([
    [{ intervalMs: 0 }, RangeError],
    [{ windowMs: 0 }, RangeError],
    [{ total: -1 }, RangeError],
    [{ total: 1.5 }, TypeError],
    [{ scheduler: {} as never }, TypeError],
  ])('rejects %o at once', (options, type) => {
    expect(() => createProgress(options)).toThrow(type);
    expect(() => progress(() => undefined, options)).toThrow(type);
  });
});

describe('progress', () => {
  it('passes outcomes through and reports at once, every interval and at completion', () => {
    const ts = testScheduler();
    const reports: ProgressSnapshot[] = [];
    bounded(ts, ({ cold, expectObservable }) => {
      const source = cold<Outcome>('-c-f-d-|', outcomes);
      const tracked = source.pipe(progress((s) => reports.push(s), { intervalMs: 2, scheduler: ts }));
      expectObservable(tracked).toBe('-c-f-d-|', outcomes);
    });
    expect(reports.map((s) => [s.elapsedMs, s.completed, s.status])).toEqual([
      [0, 0, 'running'],
      [2, 1, 'running'],
      [4, 2, 'running'],
      [6, 3, 'running'],
      [7, 3, 'complete'],
    ]);
    expect(reports[4]).toMatchObject({
      classified: 2,
      failed: 1,
      submitted: 0,
      failedByCode: { DECODE_FAILED: 1 },
    });
  });

  it('reports once on an empty source', () => {
    const ts = testScheduler();
    const reports: ProgressSnapshot[] = [];
    bounded(ts, ({ cold, expectObservable }) => {
      const tracked = cold<Outcome>('|').pipe(progress((s) => reports.push(s), { scheduler: ts }));
      expectObservable(tracked).toBe('|');
    });
    expect(reports.at(-1)).toMatchObject({ status: 'complete', completed: 0 });
  });

  it('reports the error status, then passes the error on', () => {
    const ts = testScheduler();
    const reports: ProgressSnapshot[] = [];
    const error = new AthenaError('UNAVAILABLE', 'gone');
    bounded(ts, ({ cold, expectObservable }) => {
      const tracked = cold<Outcome>('-c 5ms #', outcomes, error).pipe(
        progress((s) => reports.push(s), { intervalMs: 100, scheduler: ts }),
      );
      expectObservable(tracked).toBe('-c 5ms #', outcomes, error);
    });
    expect(reports.map((s) => [s.elapsedMs, s.status, s.completed])).toEqual([
      [0, 'running', 0],
      [7, 'error', 1],
    ]);
  });

  it('stops reporting on unsubscribe, with state per subscription', () => {
    const ts = testScheduler();
    const reports: ProgressSnapshot[] = [];
    bounded(ts, ({ cold, expectObservable }) => {
      const tracked = cold<Outcome>('-c-d-', outcomes).pipe(
        progress((s) => reports.push(s), { intervalMs: 2, scheduler: ts }),
      );
      expectObservable(tracked, '^--!').toBe('-c-', outcomes);
      expectObservable(tracked, '^----!').toBe('-c-d-', outcomes);
    });
    // first subscription: 0, 2; second: 0, 2, 4 (each counting its own outcomes)
    expect(reports.map((s) => [s.elapsedMs, s.completed])).toEqual([
      [0, 0],
      [0, 0],
      [2, 1],
      [2, 1],
      [4, 2],
    ]);
  });

  it('turns an error thrown by report into an error of the stream', () => {
    const ts = testScheduler();
    const broken = new Error('report failed');
    bounded(ts, ({ cold, expectObservable }) => {
      const tracked = cold<Outcome>('-c-', outcomes).pipe(
        progress(
          () => {
            throw broken;
          },
          { scheduler: ts },
        ),
      );
      expectObservable(tracked).toBe('#', undefined, broken);
    });
  });

  it('rejects a report that is not a function', () => {
    expect(() => progress(undefined as never)).toThrow(TypeError);
  });
});
