/**
 * src/internal/tokens/ holds the token manager (see `state.ts` for what the folder may import).
 *
 * This file: the thin shell around {@link step}. It owns the one fetch subscription, the one timer,
 * the callers waiting for a token and the subscribers of the token stream, and turns each effect into
 * one of those. Timers run on the injected scheduler as given; without one they are `unref()`ed
 * Node timers, so a pending refresh never keeps a process alive.
 */
import { Observable, type SchedulerLike, type Subscriber, type Subscription } from 'rxjs';
import { AthenaError } from '../../errors.js';
import type { AccessToken } from '../../transport/contracts.js';
import { MAX_TIMER_MS } from '../core/limits.js';
import { unrefScheduler } from '../core/unref-scheduler.js';
import { registerSecret } from '../secrets/scrub.js';
import {
  heldToken,
  initialTokenState,
  step,
  type TokenEffect,
  type TokenEvent,
  type TokenGrant,
  type TokenPolicy,
} from './state.js';

/** One holder of a manager: what a client uses for every call. */
export interface TokenLease {
  /** The token held now, refused or not; undefined before the first one. */
  current(): AccessToken | undefined;
  /** Emits the token to use, then completes; waits while none is usable. Errors typed. */
  ready(): Observable<AccessToken>;
  /** A call made with `used` got `UNAUTHENTICATED`. Returns false when no new token can come. */
  invalidate(used: AccessToken | undefined): boolean;
  /** Lets go of the manager; waiting and later `ready()` calls fail with `CLOSED`. Idempotent. */
  dispose(): void;
}

export interface TokenManager {
  /** A new holder; the manager fetches on the first `ready()` and stops when every holder has left. */
  lease(): TokenLease;
  /** Every token as it comes; each subscription holds the manager; errors when a fetch fails. */
  readonly tokens: Observable<AccessToken>;
  /** Forces one fetch unless one is running (see the `refresh` event). */
  refresh(): void;
}

export interface TokenManagerOptions {
  readonly policy: TokenPolicy;
  /** Starts getting a token: emits one grant (a request) or several (a source pushing its own). */
  readonly fetch: (previous: TokenGrant | undefined) => Observable<TokenGrant>;
  /** Clock and timers, used as given; default {@link unrefScheduler} (`Date.now`, `unref()`ed timers). */
  readonly scheduler?: SchedulerLike | undefined;
}

/** Events handled in one drain; more would mean effects feeding events back without end. */
const MAX_EVENTS_PER_DRAIN = 10_000;

interface Waiter {
  readonly owner: object;
  readonly subscriber: Subscriber<AccessToken>;
}

export function createTokenManager(options: TokenManagerOptions): TokenManager {
  const { scheduler = unrefScheduler, fetch } = options;
  const now = () => scheduler.now();
  let state = initialTokenState(options.policy);
  let holders = 0;
  const waiters = new Set<Waiter>();
  const streams = new Map<Subscriber<AccessToken>, AccessToken | undefined>();
  let fetchRun: { subscription?: Subscription } | undefined;
  let cancelTimer: (() => void) | undefined;
  const queue: TokenEvent[] = [];
  let draining = false;

  function dispatch(event: TokenEvent): void {
    queue.push(event);
    if (draining) return;
    draining = true;
    try {
      for (let n = 0; n < MAX_EVENTS_PER_DRAIN && queue.length > 0; n += 1) {
        const next = queue.shift() as TokenEvent;
        const result = step(state, next);
        state = result.state;
        for (const effect of result.effects) run(effect);
      }
    } finally {
      draining = false;
    }
  }

  function run(effect: TokenEffect): void {
    switch (effect.type) {
      case 'fetch':
        return startFetch(effect.previous);
      case 'cancel-fetch': {
        const current = fetchRun;
        fetchRun = undefined;
        return current?.subscription?.unsubscribe();
      }
      case 'schedule':
        return arm(effect.at);
      case 'cancel-timer':
        cancelTimer?.();
        cancelTimer = undefined;
        return;
      case 'deliver':
        for (const waiter of [...waiters]) {
          waiters.delete(waiter);
          waiter.subscriber.next(effect.token);
          waiter.subscriber.complete();
        }
        for (const [subscriber, last] of [...streams]) {
          if (last === effect.token || !streams.has(subscriber)) continue;
          streams.set(subscriber, effect.token);
          subscriber.next(effect.token);
        }
        return;
      case 'fail':
        for (const waiter of [...waiters]) {
          waiters.delete(waiter);
          waiter.subscriber.error(effect.error);
        }
        for (const subscriber of [...streams.keys()]) subscriber.error(effect.error);
        return;
    }
  }

  function startFetch(previous: TokenGrant | undefined): void {
    const replaced = fetchRun;
    const current: { subscription?: Subscription } = {};
    fetchRun = current;
    let received = false;
    const subscription = fetch(previous).subscribe({
      next: (grant) => {
        if (fetchRun !== current) return;
        received = true;
        registerSecret(grant.token.accessToken);
        registerSecret(grant.refreshToken);
        dispatch({ type: 'fetched', grant, at: now() });
      },
      error: (error: unknown) => {
        if (fetchRun !== current) return;
        fetchRun = undefined;
        dispatch({ type: 'fetch-failed', error: AthenaError.from(error, 'OAUTH_ERROR'), at: now() });
      },
      complete: () => {
        if (fetchRun !== current) return;
        fetchRun = undefined;
        if (received) return;
        const error = new AthenaError('OAUTH_ERROR', 'the token source completed without a token');
        dispatch({ type: 'fetch-failed', error, at: now() });
      },
    });
    current.subscription = subscription;
    // Subscribed before the old one is let go, so a shared upstream stays connected across the swap.
    replaced?.subscription?.unsubscribe();
  }

  function arm(at: number): void {
    cancelTimer?.();
    const wait = Math.max(0, at - now());
    const fire = () => {
      cancelTimer = undefined;
      if (wait > MAX_TIMER_MS) arm(at);
      else dispatch({ type: 'timer', at: now() });
    };
    const delay = Math.min(wait, MAX_TIMER_MS); // a longer wait is taken in steps
    const scheduled = scheduler.schedule(fire, delay);
    cancelTimer = () => scheduled.unsubscribe();
  }

  function hold(): () => void {
    holders += 1;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      holders -= 1;
      if (holders === 0) dispatch({ type: 'disposed' });
    };
  }

  const tokens = new Observable<AccessToken>((subscriber) => {
    const release = hold();
    streams.set(subscriber, undefined);
    dispatch({ type: 'wanted', at: now() });
    return () => {
      streams.delete(subscriber);
      release();
    };
  });

  function lease(): TokenLease {
    const release = hold();
    const owner = {};
    let disposed = false;
    return {
      current: () => (disposed ? undefined : heldToken(state)),
      ready: () =>
        new Observable<AccessToken>((subscriber) => {
          if (disposed) {
            subscriber.error(new AthenaError('CLOSED', 'the client is closed'));
            return undefined;
          }
          const waiter: Waiter = { owner, subscriber };
          waiters.add(waiter);
          dispatch({ type: 'wanted', at: now() });
          return () => waiters.delete(waiter);
        }),
      invalidate: (used) => {
        if (disposed || !state.policy.canRefresh) return false;
        dispatch({ type: 'unauthenticated', used, at: now() });
        return true;
      },
      dispose: () => {
        if (disposed) return;
        disposed = true;
        const closed = new AthenaError('CLOSED', 'the client is closed');
        for (const waiter of [...waiters]) {
          if (waiter.owner !== owner) continue;
          waiters.delete(waiter);
          waiter.subscriber.error(closed);
        }
        release();
      },
    };
  }

  return { lease, tokens, refresh: () => dispatch({ type: 'refresh', at: now() }) };
}
