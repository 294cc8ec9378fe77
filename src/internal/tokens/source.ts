/**
 * src/internal/tokens/ holds the token manager and the OAuth requests it runs; it imports rxjs,
 * src/errors.ts, src/internal/ helpers and the types of src/transport/contracts.ts only.
 *
 * This file: the two ways into a manager. {@link managedSource} builds the `TokenSource` the OAuth
 * factories return (the manager behind it is the only cache); {@link tokenLease} gives a client its
 * lease, on that same manager for those sources, or on a manager adopting any other Observable.
 */
import { Observable, defer, filter, map, share, type SchedulerLike } from 'rxjs';
import type { AccessToken, TokenSource } from '../../transport/contracts.js';
import { unrefScheduler } from '../core/unref-scheduler.js';
import { createTokenManager, type TokenLease, type TokenManager } from './manager.js';
import { sameToken, type TokenGrant } from './state.js';

/** A token source built by athena-rx: shared, refreshing, with a `refresh()` that forces one refresh. */
export type RefreshingTokenSource = Observable<AccessToken> & {
  /**
   * Forces one refresh: starts a request unless one is already under way, in which case its token is
   * the fresh one. Without subscribers, marks the cached token stale so the next subscriber fetches.
   */
  refresh(): void;
};

/** How long callers wait for the successor of a refused token before trying the old one again. */
export const REFRESH_WAIT_MS = 30_000;

const managers = new WeakMap<object, TokenManager>();

export interface ManagedSourceOptions {
  readonly refreshMarginMs: number;
  /** The injected scheduler, if any: without one, refresh timers are unref'd Node timers. */
  readonly scheduler: SchedulerLike | undefined;
}

/** A token source whose tokens come from `fetch` (one request, one grant), refreshed before expiry. */
export function managedSource(
  fetch: (previous: TokenGrant | undefined) => Observable<TokenGrant>,
  options: ManagedSourceOptions,
): RefreshingTokenSource {
  const manager = createTokenManager({
    policy: {
      refreshMarginMs: options.refreshMarginMs,
      scheduled: true,
      canRefresh: true,
      refreshWaitMs: REFRESH_WAIT_MS,
    },
    fetch,
    scheduler: options.scheduler,
  });
  const source = Object.assign(
    new Observable<AccessToken>((subscriber) => manager.tokens.subscribe(subscriber)),
    { refresh: () => manager.refresh() },
  );
  managers.set(source, manager);
  return source;
}

/**
 * A lease for one client: on the source's own manager when athena-rx built it, otherwise on a new
 * manager that subscribes to `source` when a token is first wanted and takes every token it emits.
 */
export function tokenLease(source: TokenSource): TokenLease {
  const own = managers.get(source);
  if (own) return own.lease();
  return createTokenManager({
    policy: {
      refreshMarginMs: 0,
      scheduled: false,
      canRefresh: typeof source.refresh === 'function',
      refreshWaitMs: REFRESH_WAIT_MS,
    },
    fetch: adopt(source),
  }).lease();
}

/**
 * Fetching from a source that pushes its own tokens: the first fetch subscribes (shared, so later
 * fetches reuse the subscription); a fetch for a successor calls the source's `refresh()` and waits
 * for a token other than the refused one.
 */
function adopt(source: TokenSource): (previous: TokenGrant | undefined) => Observable<TokenGrant> {
  let active = 0;
  const shared = source.pipe(
    map((token): TokenGrant => ({ token, issuedAt: unrefScheduler.now() })),
    share({ resetOnError: true, resetOnComplete: true, resetOnRefCountZero: true }),
  );
  const counted = new Observable<TokenGrant>((subscriber) => {
    active += 1;
    const subscription = shared.subscribe(subscriber);
    return () => {
      active -= 1;
      subscription.unsubscribe();
    };
  });
  return (previous) => {
    const refresh = source.refresh;
    if (previous === undefined || active === 0 || typeof refresh !== 'function') return counted;
    return defer(() => {
      refresh.call(source);
      return counted.pipe(filter((grant) => !sameToken(grant.token, previous.token)));
    });
  };
}
