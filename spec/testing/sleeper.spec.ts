import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createSleeper } from '../../src/testing/sleeper.js';

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('createSleeper', () => {
  it('resolves each delay when its time comes on the scheduler', async () => {
    const scheduler = new VirtualTimeScheduler();
    const sleeper = createSleeper(scheduler);
    const done: number[] = [];
    void sleeper.sleep(50).then(() => done.push(50));
    void sleeper.sleep(10).then(() => done.push(10));
    await settled();
    expect(done).toEqual([]);
    scheduler.flush();
    await settled();
    expect(done).toEqual([10, 50]);
  });

  it('wakeAll resolves pending delays at once and later ones immediately', async () => {
    const scheduler = new VirtualTimeScheduler();
    const sleeper = createSleeper(scheduler);
    const done: string[] = [];
    void sleeper.sleep(1_000).then(() => done.push('pending'));
    sleeper.wakeAll();
    await settled();
    expect(done).toEqual(['pending']);
    void sleeper.sleep(1_000).then(() => done.push('later'));
    await settled();
    expect(done).toEqual(['pending', 'later']);
    expect(scheduler.actions).toEqual([]);
  });
});
