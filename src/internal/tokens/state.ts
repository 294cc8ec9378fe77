/**
 * src/internal/tokens/ holds the token manager: the one place that caches, refreshes and invalidates
 * access tokens, plus the OAuth token requests it runs. It may import rxjs, src/errors.ts,
 * src/internal/*.ts helpers and types from src/transport/contracts.ts, never other transport code.
 *
 * This file: a token's life as data. One tagged variant per phase and a pure {@link step} from
 * (state, event) to (state, effects); `manager.ts` runs the effects on a scheduler.
 */
import { AthenaError } from '../../errors.js';
import type { AccessToken } from '../../transport/contracts.js';

/** A token with what the refresh cycle needs to know about it. */
export interface TokenGrant {
  readonly token: AccessToken;
  /** When the request that produced it was sent (scheduler time). */
  readonly issuedAt: number;
  readonly refreshToken?: string;
}

/** What does not change over a manager's life. */
export interface TokenPolicy {
  /** Refresh this long before expiry, at most a tenth of the lifetime before it. */
  readonly refreshMarginMs: number;
  /** Whether the manager schedules refreshes itself (false for a source that pushes its own tokens). */
  readonly scheduled: boolean;
  /** Whether a fetch can bring a new token on demand (false for a source without `refresh()`). */
  readonly canRefresh: boolean;
  /** How long callers wait for the token an `UNAUTHENTICATED` asked for before the old one is used again. */
  readonly refreshWaitMs: number;
}

export type TokenPhase =
  /** No fetch running. `cached` is a token kept while nobody held the manager; `stale` when refused. */
  | { readonly kind: 'none'; readonly cached?: TokenGrant; readonly stale?: boolean }
  /** No usable token; a fetch runs and callers wait. `previous` feeds a refresh-token grant. */
  | { readonly kind: 'fetching'; readonly previous?: TokenGrant }
  /** A usable token; the refresh timer is set when the policy schedules refreshes. */
  | { readonly kind: 'fresh'; readonly grant: TokenGrant }
  /** A fetch runs for a successor. `stale`: the token was refused, so callers wait for the new one. */
  | { readonly kind: 'refreshing'; readonly grant: TokenGrant; readonly stale: boolean }
  /** The last fetch failed and waiting callers got `error`; the next caller starts a fetch again. */
  | { readonly kind: 'failed'; readonly error: AthenaError; readonly previous?: TokenGrant };

export interface TokenState {
  readonly policy: TokenPolicy;
  readonly phase: TokenPhase;
}

export type TokenEvent =
  /** A caller wants a token to use now. */
  | { readonly type: 'wanted'; readonly at: number }
  /** A fetch brought a token (a pushing source may bring one at any time). */
  | { readonly type: 'fetched'; readonly grant: TokenGrant; readonly at: number }
  | { readonly type: 'fetch-failed'; readonly error: AthenaError; readonly at: number }
  /** The one timer fired: a refresh is due, or the wait for a refused token's successor is over. */
  | { readonly type: 'timer'; readonly at: number }
  /** A call made with `used` was refused `UNAUTHENTICATED`. */
  | { readonly type: 'unauthenticated'; readonly used: AccessToken | undefined; readonly at: number }
  /** `refresh()` was called on the source. */
  | { readonly type: 'refresh'; readonly at: number }
  /** Nobody holds the manager any more: stop the fetch and the timer, keep the token for later. */
  | { readonly type: 'disposed' };

export type TokenEffect =
  | { readonly type: 'fetch'; readonly previous: TokenGrant | undefined }
  | { readonly type: 'cancel-fetch' }
  /** Sets the one timer to fire at `at`, replacing any set before. */
  | { readonly type: 'schedule'; readonly at: number }
  | { readonly type: 'cancel-timer' }
  /** Hands `token` to every waiting caller and to subscribers that have not seen it. */
  | { readonly type: 'deliver'; readonly token: AccessToken }
  /** Fails every waiting caller and subscriber with `error`. */
  | { readonly type: 'fail'; readonly error: AthenaError };

export interface TokenStep {
  readonly state: TokenState;
  readonly effects: readonly TokenEffect[];
}

/** A refresh that fails with less than this much life left in the token fails the callers instead. */
export const MIN_RETRY_LIFE_MS = 2_000;

export function initialTokenState(policy: TokenPolicy): TokenState {
  return { policy, phase: { kind: 'none' } };
}

/** When a grant is due for refresh: its expiry minus the margin, the margin at most a tenth of its life. */
export function refreshAt(grant: TokenGrant, marginMs: number): number {
  const { expiresAt } = grant.token;
  if (!Number.isFinite(expiresAt)) return Number.POSITIVE_INFINITY;
  const lifetime = Math.max(0, expiresAt - grant.issuedAt);
  return expiresAt - Math.min(marginMs, lifetime / 10);
}

/** The token the state holds, refused or not: what call credentials put on a call that has none. */
export function heldToken(state: TokenState): AccessToken | undefined {
  const { phase } = state;
  return phase.kind === 'fresh' || phase.kind === 'refreshing' ? phase.grant.token : undefined;
}

/** Whether two tokens are the same credential (sources may emit equal tokens as new objects). */
export function sameToken(a: AccessToken | undefined, b: AccessToken | undefined): boolean {
  return a !== undefined && b !== undefined && a.accessToken === b.accessToken && a.tokenType === b.tokenType;
}

/** The pure transition function of the token manager. Events that do not apply leave the state as is. */
export function step(state: TokenState, event: TokenEvent): TokenStep {
  const { policy, phase } = state;
  const to = (next: TokenPhase, ...effects: TokenEffect[]): TokenStep => ({
    state: { policy, phase: next },
    effects,
  });
  const same: TokenStep = { state, effects: [] };
  const fresh = (grant: TokenGrant, ...before: TokenEffect[]): TokenStep => {
    const due = refreshAt(grant, policy.refreshMarginMs);
    const timer: TokenEffect =
      policy.scheduled && Number.isFinite(due) ? { type: 'schedule', at: due } : { type: 'cancel-timer' };
    return to({ kind: 'fresh', grant }, ...before, timer, { type: 'deliver', token: grant.token });
  };
  const fetching = (previous: TokenGrant | undefined): TokenStep =>
    to(previous ? { kind: 'fetching', previous } : { kind: 'fetching' }, { type: 'fetch', previous });
  const closed = () =>
    ({ type: 'fail', error: new AthenaError('CLOSED', 'the token source was released') }) as const;

  switch (phase.kind) {
    case 'none':
      if (event.type === 'wanted') {
        const { cached } = phase;
        if (!cached || phase.stale || event.at >= refreshAt(cached, policy.refreshMarginMs)) {
          return fetching(cached);
        }
        return fresh(cached);
      }
      if (event.type === 'refresh' && phase.cached) return to({ ...phase, stale: true });
      if (event.type === 'unauthenticated' && sameToken(event.used, phase.cached?.token)) {
        return to({ ...phase, stale: true });
      }
      return same;
    case 'fetching':
      if (event.type === 'fetched') return fresh(event.grant);
      if (event.type === 'fetch-failed') {
        const failed = { kind: 'failed', error: event.error } as const;
        return to(phase.previous ? { ...failed, previous: phase.previous } : failed, {
          type: 'fail',
          error: event.error,
        });
      }
      if (event.type === 'disposed') {
        return to(kept(phase.previous, true), { type: 'cancel-fetch' }, closed());
      }
      return same;
    case 'fresh':
      switch (event.type) {
        case 'wanted':
          return to(phase, { type: 'deliver', token: phase.grant.token });
        case 'timer':
        case 'refresh':
          return to(
            { kind: 'refreshing', grant: phase.grant, stale: false },
            { type: 'cancel-timer' },
            { type: 'fetch', previous: phase.grant },
          );
        case 'unauthenticated':
          if (!policy.canRefresh || !sameToken(event.used, phase.grant.token)) return same;
          return to(
            { kind: 'refreshing', grant: phase.grant, stale: true },
            { type: 'schedule', at: event.at + policy.refreshWaitMs },
            { type: 'fetch', previous: phase.grant },
          );
        case 'fetched':
          return fresh(event.grant);
        case 'fetch-failed':
          return to(
            { kind: 'failed', error: event.error, previous: phase.grant },
            { type: 'cancel-timer' },
            {
              type: 'fail',
              error: event.error,
            },
          );
        case 'disposed':
          return to(kept(phase.grant, false), { type: 'cancel-timer' });
      }
      return same;
    case 'refreshing':
      switch (event.type) {
        case 'wanted':
          return phase.stale ? same : to(phase, { type: 'deliver', token: phase.grant.token });
        case 'fetched':
          return fresh(event.grant);
        case 'fetch-failed':
          return refreshFailed(state, phase.grant, phase.stale, event);
        case 'timer':
          // The successor of a refused token is late: let callers try the old one rather than hang.
          if (!phase.stale) return same;
          return to({ ...phase, stale: false }, { type: 'deliver', token: phase.grant.token });
        case 'unauthenticated':
          if (phase.stale || !sameToken(event.used, phase.grant.token)) return same;
          return to({ ...phase, stale: true }, { type: 'schedule', at: event.at + policy.refreshWaitMs });
        case 'disposed':
          return to(
            kept(phase.grant, phase.stale),
            { type: 'cancel-fetch' },
            { type: 'cancel-timer' },
            closed(),
          );
      }
      return same;
    case 'failed':
      if (event.type === 'wanted') return fetching(phase.previous);
      if (event.type === 'disposed') return to(kept(phase.previous, true));
      return same;
  }
}

function kept(grant: TokenGrant | undefined, stale: boolean): TokenPhase {
  if (!grant) return { kind: 'none' };
  return stale ? { kind: 'none', cached: grant, stale } : { kind: 'none', cached: grant };
}

/**
 * A refresh failed. A token that was not refused and still has life left keeps serving, and the
 * refresh is tried again halfway to its expiry; otherwise the callers get the error.
 */
function refreshFailed(
  state: TokenState,
  grant: TokenGrant,
  stale: boolean,
  event: { readonly error: AthenaError; readonly at: number },
): TokenStep {
  const { policy } = state;
  const life = grant.token.expiresAt - event.at;
  if (!stale && policy.scheduled && Number.isFinite(life) && life >= MIN_RETRY_LIFE_MS) {
    return {
      state: { policy, phase: { kind: 'fresh', grant } },
      effects: [{ type: 'schedule', at: event.at + Math.floor(life / 2) }],
    };
  }
  return {
    state: { policy, phase: { kind: 'failed', error: event.error, previous: grant } },
    effects: [{ type: 'cancel-timer' }, { type: 'fail', error: event.error }],
  };
}
