import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import { retryPolicy } from '../../src/internal/backoff.js';
import { createReconnector } from '../../src/internal/classify-reconnect.js';

const error = (code: string) => new AthenaError(code as 'UNAVAILABLE', code);

describe('createReconnector', () => {
  const policy = retryPolicy({ maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 1000, budgetMs: 500 });

  it('backs off with growing, capped, jittered delays until the attempts are spent', () => {
    const r = createReconnector(policy, new VirtualTimeScheduler(), () => 0.5);
    expect(r.next(error('UNAVAILABLE'))).toEqual({ attempt: 1, delayMs: 50 });
    expect(r.next(error('INTERNAL'))).toEqual({ attempt: 2, delayMs: 100 });
    expect(r.next(error('UNAVAILABLE'))).toBeUndefined();
  });

  it('starts a new streak once a response came', () => {
    const r = createReconnector(policy, new VirtualTimeScheduler(), () => 0.5);
    r.next(error('UNAVAILABLE'));
    r.next(error('UNAVAILABLE'));
    r.healthy();
    expect(r.next(error('UNAVAILABLE'))).toEqual({ attempt: 1, delayMs: 50 });
  });

  it('stops at the time budget of a streak', () => {
    const vts = new VirtualTimeScheduler();
    const r = createReconnector(retryPolicy({ maxAttempts: 10, budgetMs: 500 }), vts, () => 0);
    expect(r.next(error('UNAVAILABLE'))).toBeDefined();
    vts.schedule(() => undefined, 500);
    vts.flush();
    expect(r.next(error('UNAVAILABLE'))).toBeUndefined();
  });

  it('tries UNAUTHENTICATED once more at once, then calls it fatal', () => {
    const r = createReconnector(policy, new VirtualTimeScheduler(), () => 0.5);
    expect(r.fatal(error('UNAUTHENTICATED'))).toBe(false);
    expect(r.next(error('UNAUTHENTICATED'))).toEqual({ attempt: 1, delayMs: 0 });
    expect(r.fatal(error('UNAUTHENTICATED'))).toBe(true);
    expect(r.next(error('UNAUTHENTICATED'))).toBeUndefined();
  });

  it('calls what the policy does not retry fatal', () => {
    const r = createReconnector(policy, new VirtualTimeScheduler(), () => 0.5);
    expect(r.fatal(error('PERMISSION_DENIED'))).toBe(true);
    expect(r.fatal(error('INVALID_ARGUMENT'))).toBe(true);
    expect(r.fatal(error('UNAVAILABLE'))).toBe(false);
    expect(r.next(error('PERMISSION_DENIED'))).toBeUndefined();
  });
});
