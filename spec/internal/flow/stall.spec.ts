import { map, type SchedulerLike, type Subscription } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { imageItem, type ItemOrFailure } from '../../../src/model.js';
import { fromPulled, type ReadEntry } from '../../../src/internal/flow/source.js';
import {
  stallOptions,
  STALL_KEEP_ALIVE_MS,
  stallStep,
  type SourceEvent,
  type StallState,
} from '../../../src/internal/flow/stall.js';
import { releaseLeases } from '../../../src/operators/releaseLeases.js';
import { fromBuffers } from '../../../src/sources/fromBuffers.js';

const item = (ref: string): ItemOrFailure => imageItem({ ref, data: new Uint8Array([1]) });

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** A scheduler passing work to `inner` and counting the timers armed and not yet ended. */
function counting(inner: SchedulerLike): { scheduler: SchedulerLike; live: () => number } {
  const armed = new Set<Subscription>();
  const scheduler: SchedulerLike = {
    now: () => inner.now(),
    schedule: ((work: () => void, delay?: number) => {
      const subscription = inner.schedule(function (this: unknown) {
        armed.delete(subscription);
        work();
      }, delay);
      armed.add(subscription);
      subscription.add(() => armed.delete(subscription));
      return subscription;
    }) as SchedulerLike['schedule'],
  };
  return { scheduler, live: () => armed.size };
}

describe('stallStep', () => {
  const flowing: StallState = { phase: 'flowing' };

  it('arms the warning timer when the window fills, and disarms it when a credit comes back', () => {
    const full = stallStep(flowing, { type: 'full', now: 100 }, 50);
    expect(full).toEqual({
      state: { phase: 'stalled', since: 100, warned: false },
      effects: [{ type: 'arm', delayMs: 50 }],
    });
    expect(stallStep(full.state, { type: 'flowing' }, 50)).toEqual({
      state: flowing,
      effects: [{ type: 'disarm' }],
    });
  });

  it('warns once when the timer fires, then only keeps the process alive', () => {
    const stalled: StallState = { phase: 'stalled', since: 100, warned: false };
    const fired = stallStep(stalled, { type: 'timer', now: 150 }, 50);
    expect(fired.effects).toEqual([
      { type: 'warn', stalledMs: 50 },
      { type: 'arm', delayMs: STALL_KEEP_ALIVE_MS },
    ]);
    const again = stallStep(fired.state, { type: 'timer', now: 150 + STALL_KEEP_ALIVE_MS }, 50);
    expect(again.effects).toEqual([{ type: 'arm', delayMs: STALL_KEEP_ALIVE_MS }]);
  });

  it('never warns with warnMs 0, yet keeps a timer armed while stalled', () => {
    const full = stallStep(flowing, { type: 'full', now: 0 }, 0);
    expect(full.effects).toEqual([{ type: 'arm', delayMs: STALL_KEEP_ALIVE_MS }]);
    const fired = stallStep(full.state, { type: 'timer', now: STALL_KEEP_ALIVE_MS }, 0);
    expect(fired.effects).toEqual([{ type: 'arm', delayMs: STALL_KEEP_ALIVE_MS }]);
  });

  it('disarms at the end and ignores everything after it', () => {
    const stalled: StallState = { phase: 'stalled', since: 0, warned: true };
    const ended = stallStep(stalled, { type: 'end' }, 50);
    expect(ended).toEqual({ state: { phase: 'over' }, effects: [{ type: 'disarm' }] });
    expect(stallStep(ended.state, { type: 'full', now: 10 }, 50).effects).toEqual([]);
    expect(stallStep(flowing, { type: 'end' }, 50).effects).toEqual([]);
  });
});

describe('the stall of a source (virtual time)', () => {
  const read: ReadEntry<string> = (entry) => [item(entry)];

  it('reports a window held without release after windowStallWarnMs, with held, window and time', () => {
    const ts = testScheduler();
    const events: Array<SourceEvent & { at: number }> = [];
    ts.run(({ expectObservable }) => {
      const source = fromPulled(() => ['a', 'b', 'c', 'd'], read, {
        window: 2,
        concurrency: 2,
        windowStallWarnMs: 30,
        scheduler: ts,
        events: { next: (event) => events.push({ ...event, at: ts.now() }) },
      });
      expectObservable(source.pipe(map((v) => v.ref)), '^ 100ms !').toBe('(ab)');
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'window-stall', held: 2, window: 2, stalledMs: 30, at: 30 });
    expect(events[0]!.message).toContain('releaseLeases()');
    expect(events[0]!.message).toContain('window of 2');
  });

  it('does not report a window whose values are released in time, and warns again on a new stall', () => {
    const ts = testScheduler();
    const at: number[] = [];
    ts.run(({ cold, expectObservable }) => {
      const slow: ReadEntry<string> = (entry) => cold('x|', { x: item(entry) });
      const source = fromPulled(() => ['a', 'b', 'c', 'd'], slow, {
        window: 2,
        concurrency: 2,
        windowStallWarnMs: 30,
        scheduler: ts,
        events: { next: () => at.push(ts.now()) },
      });
      // a and b are held 20 ms (less than 30) and released; c and d are never released.
      const held: ItemOrFailure[] = [];
      const released$ = source.pipe(
        map((value) => {
          held.push(value);
          if (held.length === 2) ts.schedule(() => held.forEach((v) => v.lease?.release()), 20);
          return value.ref;
        }),
      );
      expectObservable(released$, '^ 100ms !').toBe('(ab) 16ms (cd)');
    });
    expect(at).toEqual([50]);
  });

  it('stays silent with windowStallWarnMs 0', () => {
    const ts = testScheduler();
    const events: SourceEvent[] = [];
    ts.run(({ expectObservable }) => {
      const source = fromPulled(() => ['a', 'b', 'c'], read, {
        window: 1,
        concurrency: 1,
        windowStallWarnMs: 0,
        scheduler: ts,
        events: { next: (event) => events.push(event) },
      });
      expectObservable(source.pipe(map((v) => v.ref)), `^ ${STALL_KEEP_ALIVE_MS * 3}ms !`).toBe('a');
    });
    expect(events).toEqual([]);
  });

  it('leaves no timer behind after unsubscribe, complete or error', () => {
    const ts = testScheduler();
    const { scheduler, live } = counting(ts);
    ts.run(() => {
      const options = { window: 2, concurrency: 2, windowStallWarnMs: 30, scheduler };
      // Stalled, then unsubscribed.
      const stalled = fromPulled(() => ['a', 'b', 'c'], read, options).subscribe();
      expect(live()).toBe(1);
      stalled.unsubscribe();
      expect(live()).toBe(0);
      // Stalled, then released until it completes.
      const held: ItemOrFailure[] = [];
      let completed = false;
      fromPulled(() => ['a', 'b', 'c'], read, options).subscribe({
        next: (value) => held.push(value),
        complete: () => (completed = true),
      });
      expect(live()).toBe(1);
      held.forEach((value) => value.lease?.release());
      expect(live()).toBe(0);
      held.forEach((value) => value.lease?.release());
      expect(completed).toBe(true);
      // Stalled, then the iterable fails once a credit comes back.
      function* failing(): Generator<string> {
        yield 'a';
        yield 'b';
        throw new Error('walk broke');
      }
      const first: ItemOrFailure[] = [];
      let failed: unknown;
      fromPulled(failing, read, options).subscribe({
        next: (value) => first.push(value),
        error: (error: unknown) => (failed = error),
      });
      expect(live()).toBe(1);
      first[0]!.lease!.release();
      expect(failed).toEqual(new Error('walk broke'));
      expect(live()).toBe(0);
    });
  });

  it('ends the source with the error an events observer throws, and disarms', () => {
    const ts = testScheduler();
    const { scheduler, live } = counting(ts);
    ts.run(({ expectObservable }) => {
      const source = fromBuffers([new Uint8Array([1]), new Uint8Array([2])], {
        window: 1,
        windowStallWarnMs: 5,
        scheduler,
        events: {
          next: () => {
            throw new Error('observer broke');
          },
        },
      });
      expectObservable(source.pipe(map((v) => v.ref))).toBe(
        'a 4ms #',
        { a: 'buffer-0' },
        new Error('observer broke'),
      );
    });
    expect(live()).toBe(0);
  });

  it('takes the stall options from every source, validated at call time', () => {
    const ts = testScheduler();
    const events: SourceEvent[] = [];
    ts.run(({ expectObservable }) => {
      const source = fromBuffers([new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])], {
        window: 2,
        windowStallWarnMs: 1_000,
        scheduler: ts,
        events: { next: (event) => events.push(event) },
      });
      expectObservable(source.pipe(map((v) => v.ref)), '^ 2s !').toBe('(ab)', {
        a: 'buffer-0',
        b: 'buffer-1',
      });
    });
    expect(events.map((e) => [e.held, e.window, e.stalledMs])).toEqual([[2, 2, 1_000]]);
    expect(() => fromBuffers([], { windowStallWarnMs: -1 })).toThrow(RangeError);
    expect(() => fromBuffers([], { windowStallWarnMs: 1.5 })).toThrow(TypeError);
    expect(() => fromBuffers([], { events: 'log' as never })).toThrow(TypeError);
    expect(() => fromBuffers([], { events: { next: 1 as never } })).toThrow(TypeError);
    expect(() => fromBuffers([], { scheduler: {} as never })).toThrow(TypeError);
    expect(stallOptions({})).toMatchObject({ windowStallWarnMs: 30_000 });
  });

  it('releasing through releaseLeases() never stalls', () => {
    const ts = testScheduler();
    const events: SourceEvent[] = [];
    ts.run(({ expectObservable }) => {
      const source = fromPulled(() => ['a', 'b', 'c', 'd', 'e'], read, {
        window: 1,
        concurrency: 1,
        windowStallWarnMs: 1,
        scheduler: ts,
        events: { next: (event) => events.push(event) },
      });
      expectObservable(
        source.pipe(
          releaseLeases(),
          map((v) => v.ref),
        ),
      ).toBe('(abcde|)');
    });
    expect(events).toEqual([]);
  });
});
