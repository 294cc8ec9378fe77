/** Argument checks for operator and source factories: they throw at factory time, never later. */

export function assertInteger(
  name: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`${name} must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

export function assertNumber(
  name: string,
  value: unknown,
  min: number,
  max = Number.POSITIVE_INFINITY,
): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`${name} must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

export function assertString(name: string, value: unknown, { allowEmpty = false } = {}): string {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string, got ${describe(value)}`);
  if (!allowEmpty && value.length === 0) throw new RangeError(`${name} must not be empty`);
  return value;
}

export function assertBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${describe(value)}`);
  return value;
}

export function assertFunction<T extends (...args: never[]) => unknown>(name: string, value: unknown): T {
  if (typeof value !== 'function') throw new TypeError(`${name} must be a function, got ${describe(value)}`);
  return value as T;
}

export function assertOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new RangeError(`${name} must be one of ${allowed.join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

export function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : String(value);
}

/**
 * The number of CPU cores, without importing node:os at module top level (browser bundles stay
 * clean): `navigator.hardwareConcurrency` where it exists (browsers, Node >= 21), else node:os
 * through `process.getBuiltinModule` (Node >= 20.16), else 2.
 */
export function cpuCount(): number {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  const fromNav = nav?.hardwareConcurrency;
  if (typeof fromNav === 'number' && fromNav > 0) return fromNav;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const os = proc?.getBuiltinModule?.('node:os') as { availableParallelism?: () => number } | undefined;
  const fromOs = os?.availableParallelism?.();
  return typeof fromOs === 'number' && fromOs > 0 ? fromOs : 2;
}
