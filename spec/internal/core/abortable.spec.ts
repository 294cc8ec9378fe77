import { firstValueFrom, Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { abortable } from '../../../src/internal/core/abortable.js';

describe('abortable', () => {
  it('is cold: the work starts on subscribe', async () => {
    let started = 0;
    const work$ = abortable(async () => ++started);
    expect(started).toBe(0);
    await expect(firstValueFrom(work$)).resolves.toBe(1);
    await expect(firstValueFrom(work$)).resolves.toBe(2);
  });

  it('aborts work that has not settled when unsubscribed', () => {
    let signal: AbortSignal | undefined;
    const subscription = abortable((s) => {
      signal = s;
      return new Subject<number>();
    }).subscribe();
    expect(signal?.aborted).toBe(false);
    subscription.unsubscribe();
    expect(signal?.aborted).toBe(true);
  });

  it('leaves work alone once it delivered a value', () => {
    let signal: AbortSignal | undefined;
    const values = new Subject<number>();
    const seen: number[] = [];
    const subscription = abortable((s) => {
      signal = s;
      return values;
    }).subscribe((v) => seen.push(v));
    values.next(7);
    subscription.unsubscribe();
    expect(seen).toEqual([7]);
    expect(signal?.aborted).toBe(false);
  });

  it('passes errors through without aborting', async () => {
    let signal: AbortSignal | undefined;
    await expect(
      firstValueFrom(
        abortable((s) => {
          signal = s;
          return Promise.reject(new Error('boom'));
        }),
      ),
    ).rejects.toThrow('boom');
    expect(signal?.aborted).toBe(false);
  });
});
