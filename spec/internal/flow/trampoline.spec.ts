import { describe, expect, it } from 'vitest';
import { trampoline } from '../../../src/internal/flow/trampoline.js';

describe('trampoline', () => {
  it('turns a re-entrant call into one more pass instead of nesting', () => {
    const depth: number[] = [];
    let level = 0;
    let passes = 0;
    const run = trampoline(
      () => {
        level++;
        depth.push(level);
        passes++;
        if (passes < 3) expect(run()).toBe(false);
        level--;
      },
      () => false,
    );
    expect(run()).toBe(true);
    expect(passes).toBe(3);
    expect(depth).toEqual([1, 1, 1]);
  });

  it('stops asking for passes once closed', () => {
    let closed = false;
    let passes = 0;
    const run = trampoline(
      () => {
        passes++;
        closed = true;
        run();
      },
      () => closed,
    );
    run();
    expect(passes).toBe(1);
  });

  it('can run again after a pass threw', () => {
    let fail = true;
    const run = trampoline(
      () => {
        if (fail) throw new Error('boom');
      },
      () => false,
    );
    expect(() => run()).toThrow('boom');
    fail = false;
    expect(run()).toBe(true);
  });
});
