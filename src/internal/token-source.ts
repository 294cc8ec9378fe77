/**
 * The refresh cycle shared by the OAuth token sources: one request at a time however many subscribers,
 * the latest token replayed to late subscribers, a refresh scheduled before expiry, `refresh()` forcing
 * one, and the cycle stopped when the last subscriber leaves (aborting a request in flight) and started
 * again by the next one, reusing a token that is not yet due.
 *
 * The state lives in the source, not in a subscription: sharing one token between all calls is the
 * point of a token source.
 */
import {
  ReplaySubject,
  Subject,
  defer,
  expand,
  finalize,
  map,
  of,
  race,
  share,
  switchMap,
  take,
  tap,
  timer,
  NEVER,
  type Observable,
  type SchedulerLike,
} from 'rxjs';
import type { AccessToken } from '../transport/contracts.js';
import type { TokenGrant } from './token-request.js';

/** A token source built by athena-rx: shared, refreshing, with a `refresh()` that forces one refresh. */
export type RefreshingTokenSource = Observable<AccessToken> & {
  /**
   * Forces one refresh: starts a request unless one is already under way, in which case its token is
   * the fresh one. Without subscribers, marks the cached token stale so the next subscriber fetches.
   */
  refresh(): void;
};

export interface RefreshCycleOptions {
  readonly scheduler: SchedulerLike;
  readonly refreshMarginMs: number;
}

/** The largest delay a JavaScript timer keeps; longer waits are taken in steps. */
const MAX_TIMER_MS = 2_147_483_647;

/** When a grant is due for refresh: its expiry minus the margin, the margin at most a tenth of its life. */
export function refreshAt(grant: TokenGrant, marginMs: number): number {
  const { expiresAt } = grant.token;
  if (!Number.isFinite(expiresAt)) return Number.POSITIVE_INFINITY;
  const lifetime = Math.max(0, expiresAt - grant.issuedAt);
  return expiresAt - Math.min(marginMs, lifetime / 10);
}

/**
 * Builds a shared token source from `acquire`, a cold Observable factory making one (retried) token
 * request given the previous grant (for refresh tokens), emitting one grant.
 */
export function refreshingSource(
  acquire: (previous: TokenGrant | undefined) => Observable<TokenGrant>,
  options: RefreshCycleOptions,
): RefreshingTokenSource {
  const { scheduler, refreshMarginMs } = options;
  let latest: TokenGrant | undefined;
  let stale = false;
  let inFlight = false;
  const kick = new Subject<void>();

  const due = (grant: TokenGrant) => refreshAt(grant, refreshMarginMs);
  const fetchOne = defer(() => {
    inFlight = true;
    return acquire(latest);
  }).pipe(
    take(1),
    tap((grant) => {
      latest = grant;
      stale = false;
      inFlight = false;
    }),
    finalize(() => (inFlight = false)),
  );
  const waitToRefresh = (grant: TokenGrant) =>
    defer(() => (stale ? of(undefined) : race(until(due(grant), scheduler), kick).pipe(take(1))));

  const cycle = defer(() =>
    latest !== undefined && !stale && scheduler.now() < due(latest) ? of(latest) : fetchOne,
  ).pipe(
    expand((grant) => waitToRefresh(grant).pipe(switchMap(() => fetchOne))),
    map((grant) => grant.token),
    share({
      connector: () => new ReplaySubject<AccessToken>(1),
      resetOnError: true,
      resetOnComplete: true,
      resetOnRefCountZero: true,
    }),
  );

  return Object.assign(cycle, {
    refresh(): void {
      if (inFlight) return;
      stale = true;
      kick.next();
    },
  });
}

/** Emits once when the scheduler's clock reaches `at`, in steps a timer can hold. */
function until(at: number, scheduler: SchedulerLike): Observable<unknown> {
  if (!Number.isFinite(at)) return NEVER;
  return defer(() => {
    const wait = at - scheduler.now();
    if (wait <= MAX_TIMER_MS) return timer(Math.max(0, wait), scheduler);
    return timer(MAX_TIMER_MS, scheduler).pipe(switchMap(() => until(at, scheduler)));
  });
}
