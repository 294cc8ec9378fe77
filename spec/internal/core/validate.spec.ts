import { availableParallelism } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  assertInteger,
  assertNumber,
  assertOneOf,
  assertString,
  cpuCount,
} from '../../../src/internal/core/validate.js';

describe('factory argument checks', () => {
  it('tells a wrong type (TypeError) from a value out of range (RangeError)', () => {
    expect(() => assertInteger('size', 1.5, 1)).toThrow(TypeError);
    expect(() => assertInteger('size', 0, 1)).toThrow(/size must be between 1 and/);
    expect(assertInteger('size', 3, 1, 10)).toBe(3);
    expect(() => assertNumber('delay', Number.NaN, 0)).toThrow(TypeError);
    expect(() => assertString('id', '')).toThrow(RangeError);
    expect(() => assertOneOf('mode', 'slow', ['exact', 'fast'])).toThrow(/exact, fast/);
  });

  it('never echoes more than 40 characters of a bad string value', () => {
    expect(() => assertOneOf('mode', 's'.repeat(100), ['a'])).toThrow(/"s{40}\.\.\."/);
  });
});

describe('cpuCount', () => {
  afterEach(() => vi.restoreAllMocks());

  it('reports the cores Node sees, without a top-level node:os import', () => {
    expect(cpuCount()).toBe(availableParallelism());
  });

  it('reads node:os through process.getBuiltinModule', () => {
    const proc = process as unknown as { getBuiltinModule: (id: string) => unknown };
    const spy = vi.spyOn(proc, 'getBuiltinModule').mockReturnValue({ availableParallelism: () => 7 });
    expect(cpuCount()).toBe(7);
    expect(spy).toHaveBeenCalledWith('node:os');
  });

  it('falls back to 2 where neither navigator nor process can tell', () => {
    const proc = process as unknown as { getBuiltinModule: (id: string) => unknown };
    vi.spyOn(proc, 'getBuiltinModule').mockReturnValue(undefined);
    expect(cpuCount()).toBe(2);
  });
});
