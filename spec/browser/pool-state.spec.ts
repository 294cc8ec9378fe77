import { describe, expect, it } from 'vitest';
import {
  initialPool,
  poolStep,
  type PoolEffect,
  type PoolEvent,
  type PoolState,
} from '../../src/browser/pool-state.js';

/** Runs events from a fresh pool of `size`; answers the final state and every effect in order. */
function play(size: number, events: readonly PoolEvent[]): { state: PoolState; effects: PoolEffect[] } {
  let state = initialPool(size);
  const effects: PoolEffect[] = [];
  for (const event of events) {
    const [next, produced] = poolStep(state, event);
    state = next;
    effects.push(...produced);
  }
  return { state, effects };
}

const submit = (job: number): PoolEvent => ({ type: 'submit', job });

describe('the browser worker pool (pure transitions)', () => {
  it('starts workers lazily, never more than its size, and queues the rest in order', () => {
    const { state, effects } = play(2, [submit(0), submit(1), submit(2), submit(3)]);
    expect(effects).toEqual([
      { type: 'spawn', worker: 0 },
      { type: 'send', worker: 0, job: 0 },
      { type: 'spawn', worker: 1 },
      { type: 'send', worker: 1, job: 1 },
    ]);
    expect(state.queue).toEqual([2, 3]);
    expect(state.workers).toEqual([0, 1]);
  });

  it('hands the oldest queued job to a worker as soon as it replies, without starting another', () => {
    const { effects } = play(1, [submit(0), submit(1), submit(2), { type: 'replied', worker: 0 }]);
    expect(effects.slice(2)).toEqual([{ type: 'send', worker: 0, job: 1 }]);
  });

  it('drops a cancelled job from the queue, so no worker ever gets it', () => {
    const { effects } = play(1, [
      submit(0),
      submit(1),
      submit(2),
      { type: 'cancel', job: 1 },
      { type: 'replied', worker: 0 },
    ]);
    expect(effects.filter((e) => e.type === 'send').map((e) => (e as { job: number }).job)).toEqual([0, 2]);
  });

  it('fails the job of a worker that crashed, ends it, and starts a new one for the queue', () => {
    const { state, effects } = play(1, [submit(0), submit(1), { type: 'crashed', worker: 0 }]);
    expect(effects.slice(2)).toEqual([
      { type: 'fail', job: 0, worker: 0 },
      { type: 'terminate', worker: 0 },
      { type: 'spawn', worker: 1 },
      { type: 'send', worker: 1, job: 1 },
    ]);
    expect(state.workers).toEqual([1]);
  });

  it('an idle worker that crashes is only ended; a second crash report changes nothing', () => {
    const { state, effects } = play(2, [
      submit(0),
      { type: 'replied', worker: 0 },
      { type: 'crashed', worker: 0 },
      { type: 'crashed', worker: 0 },
    ]);
    expect(effects.slice(2)).toEqual([{ type: 'terminate', worker: 0 }]);
    expect(state).toMatchObject({ workers: [], idle: [] });
  });

  it('closing ends every worker and ignores whatever comes after', () => {
    const { state, effects } = play(3, [submit(0), submit(1), { type: 'close' }, submit(2)]);
    expect(effects.slice(4)).toEqual([
      { type: 'terminate', worker: 0 },
      { type: 'terminate', worker: 1 },
    ]);
    expect(state.closed).toBe(true);
    expect(state.queue).toEqual([]);
  });

  it('keeps at most size jobs running over any sequence of submits and replies', () => {
    let state = initialPool(3);
    let maxRunning = 0;
    for (let i = 0; i < 200; i++) {
      const busy = [...state.running.keys()];
      const event: PoolEvent =
        i % 3 === 2 && busy.length > 0 ? { type: 'replied', worker: busy[0]! } : submit(i);
      const [next, effects] = poolStep(state, event);
      state = next;
      maxRunning = Math.max(maxRunning, state.running.size);
      // Every job sent went to a worker that was free (or just replied).
      const stillBusy = busy.filter((w) => event.type !== 'replied' || w !== event.worker);
      for (const effect of effects)
        if (effect.type === 'send') expect(stillBusy).not.toContain(effect.worker);
      expect(state.workers.length).toBeLessThanOrEqual(3);
    }
    expect(maxRunning).toBe(3);
  });
});
