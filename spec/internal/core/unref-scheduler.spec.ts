import { describe, expect, it } from 'vitest';
import { unrefScheduler } from '../../../src/internal/core/unref-scheduler.js';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check()` holds, for at most 2 s in 5 ms steps. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i += 1) await pause(5);
}

describe('unrefScheduler', () => {
  it('runs scheduled work once with its state, and closes the action after', async () => {
    const seen: string[] = [];
    const subscription = unrefScheduler.schedule((state) => seen.push(state ?? 'none'), 1, 'x');
    await until(() => seen.length > 0);
    await pause(10);
    expect(seen).toEqual(['x']);
    expect(subscription.closed).toBe(true);
  });

  it('never runs work unsubscribed before its time', async () => {
    let runs = 0;
    unrefScheduler.schedule(() => (runs += 1), 20).unsubscribe();
    const control = { ran: false };
    unrefScheduler.schedule(() => (control.ran = true), 30);
    await until(() => control.ran);
    expect(control.ran).toBe(true);
    expect(runs).toBe(0);
  });

  it('runs an action again when it schedules itself', async () => {
    const seen: number[] = [];
    unrefScheduler.schedule<number>(
      function (this, n) {
        const at = n ?? 0;
        seen.push(at);
        if (at < 2) this.schedule(at + 1, 1);
      },
      1,
      0,
    );
    await until(() => seen.length >= 3);
    expect(seen).toEqual([0, 1, 2]);
  });

  it('reads the wall clock', () => {
    const before = Date.now();
    const now = unrefScheduler.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});
