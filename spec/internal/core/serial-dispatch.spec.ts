import { describe, expect, it } from 'vitest';
import { serialDispatch } from '../../../src/internal/core/serial-dispatch.js';

describe('serialDispatch', () => {
  it('queues events raised while one is handled and handles them after it, in order', () => {
    const seen: string[] = [];
    const dispatch = serialDispatch<string>(
      (event) => {
        seen.push(`start ${event}`);
        if (event === 'a') {
          dispatch('b');
          dispatch('c');
        }
        seen.push(`end ${event}`);
      },
      () => false,
    );
    dispatch('a');
    expect(seen).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('drops the waiting events once closed, and settles after each drain', () => {
    let closed = false;
    const seen: string[] = [];
    let settled = 0;
    const dispatch = serialDispatch<string>(
      (event) => {
        seen.push(event);
        if (event === 'a') {
          dispatch('b');
          closed = true;
        }
      },
      () => closed,
      () => (settled += 1),
    );
    dispatch('a');
    dispatch('later');
    expect(seen).toEqual(['a']);
    expect(settled).toBe(2);
  });

  it('after a handler throws, the queue is empty and the next event is handled', () => {
    const seen: string[] = [];
    const dispatch = serialDispatch<string>(
      (event) => {
        seen.push(event);
        if (event === 'boom') {
          dispatch('queued');
          throw new Error('boom');
        }
      },
      () => false,
    );
    expect(() => dispatch('boom')).toThrow('boom');
    dispatch('next');
    expect(seen).toEqual(['boom', 'next']);
  });
});
