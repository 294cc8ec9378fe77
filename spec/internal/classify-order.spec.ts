import { describe, expect, it } from 'vitest';
import { createOrderBuffer } from '../../src/internal/classify-order.js';

describe('createOrderBuffer', () => {
  it('passes values on as they come when not ordered', () => {
    const out: string[] = [];
    const buffer = createOrderBuffer<string>(false, (v) => out.push(v));
    buffer.push(2, 'c');
    buffer.push(0, 'a');
    expect(out).toEqual(['c', 'a']);
    expect(buffer.size).toBe(0);
  });

  it('holds early values until every earlier position has left', () => {
    const out: string[] = [];
    const buffer = createOrderBuffer<string>(true, (v) => out.push(v));
    buffer.push(2, 'c');
    buffer.push(1, 'b');
    expect(out).toEqual([]);
    expect(buffer.size).toBe(2);
    buffer.push(0, 'a');
    expect(out).toEqual(['a', 'b', 'c']);
    expect(buffer.size).toBe(0);
  });

  it('stays in order when a value is pushed while another is being emitted', () => {
    const out: string[] = [];
    const buffer = createOrderBuffer<string>(true, (v) => {
      out.push(v);
      if (v === 'a') buffer.push(2, 'c');
    });
    buffer.push(1, 'b');
    buffer.push(0, 'a');
    expect(out).toEqual(['a', 'b', 'c']);
  });
});
