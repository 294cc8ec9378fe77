import { describe, expect, it } from 'vitest';
import { AthenaError } from '../../../src/errors.js';
import {
  initialTokenState,
  step,
  type TokenEvent,
  type TokenGrant,
  type TokenPolicy,
  type TokenState,
} from '../../../src/internal/tokens/state.js';

const policy: TokenPolicy = {
  refreshMarginMs: 60_000,
  scheduled: true,
  canRefresh: true,
  refreshWaitMs: 30_000,
};
const grant = (value: string, issuedAt = 0, lifeMs = 100_000): TokenGrant => ({
  token: { accessToken: value, tokenType: 'Bearer', expiresAt: issuedAt + lifeMs },
  issuedAt,
});
const A = grant('a');
const B = grant('b', 50_000);
const failure = new AthenaError('OAUTH_ERROR', 'token endpoint down');

function run(events: TokenEvent[], from: TokenState = initialTokenState(policy)) {
  let state = from;
  const effects = [];
  for (const event of events) {
    const result = step(state, event);
    state = result.state;
    effects.push(...result.effects);
  }
  return { state, effects };
}

const freshWithA = () =>
  run([
    { type: 'wanted', at: 0 },
    { type: 'fetched', grant: A, at: 10 },
  ]).state;

describe('token step: none and fetching', () => {
  it('starts one fetch for the first caller, none for the next, and delivers with the refresh timer', () => {
    const { state, effects } = run([
      { type: 'wanted', at: 0 },
      { type: 'wanted', at: 1 },
      { type: 'fetched', grant: A, at: 10 },
    ]);
    expect(state.phase).toEqual({ kind: 'fresh', grant: A });
    // 100 s lifetime: the margin is capped at a tenth, so the refresh is due at 90 s.
    expect(effects).toEqual([
      { type: 'fetch', previous: undefined },
      { type: 'schedule', at: 90_000 },
      { type: 'deliver', token: A.token },
    ]);
  });

  it('fails the callers when the fetch fails, and fetches again for the next caller', () => {
    const failed = run([
      { type: 'wanted', at: 0 },
      { type: 'fetch-failed', error: failure, at: 5 },
    ]);
    expect(failed.state.phase).toEqual({ kind: 'failed', error: failure });
    expect(failed.effects.at(-1)).toEqual({ type: 'fail', error: failure });
    const again = step(failed.state, { type: 'wanted', at: 6 });
    expect(again.state.phase.kind).toBe('fetching');
    expect(again.effects).toEqual([{ type: 'fetch', previous: undefined }]);
  });

  it('cancels the fetch and fails the callers CLOSED when disposed while fetching', () => {
    const { state, effects } = run([{ type: 'wanted', at: 0 }, { type: 'disposed' }]);
    expect(state.phase).toEqual({ kind: 'none' });
    expect(effects.slice(1)).toEqual([
      { type: 'cancel-fetch' },
      { type: 'fail', error: expect.objectContaining({ code: 'CLOSED' }) },
    ]);
    // A fetch result that still arrives is ignored.
    expect(step(state, { type: 'fetched', grant: A, at: 10 }).state).toBe(state);
  });

  it('keeps a token over an idle period and reuses it while it is not due', () => {
    const idle = step(freshWithA(), { type: 'disposed' });
    expect(idle.effects).toEqual([{ type: 'cancel-timer' }]);
    expect(step(idle.state, { type: 'wanted', at: 89_999 }).state.phase).toEqual({ kind: 'fresh', grant: A });
    expect(step(idle.state, { type: 'wanted', at: 90_000 }).effects).toEqual([
      { type: 'fetch', previous: A },
    ]);
    const refused = step(idle.state, { type: 'refresh', at: 20 }).state;
    expect(step(refused, { type: 'wanted', at: 30 }).effects).toEqual([{ type: 'fetch', previous: A }]);
  });
});

describe('token step: fresh and refreshing', () => {
  it('refreshes when the timer fires, serving the old token meanwhile', () => {
    const { state, effects } = run(
      [
        { type: 'timer', at: 90_000 },
        { type: 'wanted', at: 90_001 },
      ],
      freshWithA(),
    );
    expect(state.phase).toEqual({ kind: 'refreshing', grant: A, stale: false });
    expect(effects).toEqual([
      { type: 'cancel-timer' },
      { type: 'fetch', previous: A },
      { type: 'deliver', token: A.token },
    ]);
  });

  it('on UNAUTHENTICATED for the current token: one fetch, callers wait, a wait limit is set', () => {
    const sameValue = { ...A.token };
    const { state, effects } = run(
      [
        { type: 'unauthenticated', used: sameValue, at: 100 },
        { type: 'unauthenticated', used: A.token, at: 101 },
        { type: 'wanted', at: 102 },
        { type: 'fetched', grant: B, at: 150 },
      ],
      freshWithA(),
    );
    expect(state.phase).toEqual({ kind: 'fresh', grant: B });
    expect(effects.filter((e) => e.type === 'fetch')).toHaveLength(1);
    expect(effects[0]).toEqual({ type: 'schedule', at: 30_100 });
    expect(effects.filter((e) => e.type === 'deliver')).toEqual([{ type: 'deliver', token: B.token }]);
  });

  it('ignores UNAUTHENTICATED for a replaced token, while refreshing and after', () => {
    const refreshing = step(freshWithA(), { type: 'timer', at: 90_000 }).state;
    expect(step(refreshing, { type: 'unauthenticated', used: grant('old').token, at: 1 }).effects).toEqual(
      [],
    );
    const replaced = step(refreshing, { type: 'fetched', grant: B, at: 90_010 }).state;
    const late = step(replaced, { type: 'unauthenticated', used: A.token, at: 90_020 });
    expect(late.state).toBe(replaced);
    expect(late.effects).toEqual([]);
  });

  it('does not refresh for a source that cannot', () => {
    const fixed = run(
      [
        { type: 'wanted', at: 0 },
        { type: 'fetched', grant: A, at: 1 },
      ],
      initialTokenState({
        ...policy,
        canRefresh: false,
      }),
    ).state;
    expect(step(fixed, { type: 'unauthenticated', used: A.token, at: 2 }).effects).toEqual([]);
  });

  it('serves the refused token again when its successor is later than the wait limit', () => {
    const stale = step(freshWithA(), { type: 'unauthenticated', used: A.token, at: 100 }).state;
    expect(step(stale, { type: 'wanted', at: 101 }).effects).toEqual([]);
    const gaveUp = step(stale, { type: 'timer', at: 30_100 });
    expect(gaveUp.state.phase).toEqual({ kind: 'refreshing', grant: A, stale: false });
    expect(gaveUp.effects).toEqual([{ type: 'deliver', token: A.token }]);
  });

  it('keeps serving a live token when a refresh fails, and recovers on the retry halfway to expiry', () => {
    const refreshing = step(freshWithA(), { type: 'timer', at: 90_000 }).state;
    const failed = step(refreshing, { type: 'fetch-failed', error: failure, at: 90_000 });
    expect(failed.state.phase).toEqual({ kind: 'fresh', grant: A });
    expect(failed.effects).toEqual([{ type: 'schedule', at: 95_000 }]);
    const retried = step(failed.state, { type: 'timer', at: 95_000 });
    expect(retried.effects).toContainEqual({ type: 'fetch', previous: A });
    const recovered = step(retried.state, { type: 'fetched', grant: grant('c', 95_000), at: 95_010 });
    expect(recovered.state.phase).toEqual({ kind: 'fresh', grant: grant('c', 95_000) });
  });

  it('fails the callers when a refresh fails for a refused token or one about to expire', () => {
    const stale = step(freshWithA(), { type: 'unauthenticated', used: A.token, at: 100 }).state;
    const refused = step(stale, { type: 'fetch-failed', error: failure, at: 200 });
    expect(refused.state.phase).toEqual({ kind: 'failed', error: failure, previous: A });
    expect(refused.effects).toEqual([{ type: 'cancel-timer' }, { type: 'fail', error: failure }]);
    const late = step(step(freshWithA(), { type: 'timer', at: 99_000 }).state, {
      type: 'fetch-failed',
      error: failure,
      at: 99_000,
    });
    expect(late.state.phase.kind).toBe('failed');
  });

  it('cancels the fetch and the timer when disposed while refreshing, keeping the token', () => {
    const refreshing = step(freshWithA(), { type: 'unauthenticated', used: A.token, at: 100 }).state;
    const { state, effects } = step(refreshing, { type: 'disposed' });
    expect(state.phase).toEqual({ kind: 'none', cached: A, stale: true });
    expect(effects.map((e) => e.type)).toEqual(['cancel-fetch', 'cancel-timer', 'fail']);
  });

  it('takes a token a pushing source sends at any time, without a timer when it refreshes itself', () => {
    const pushed = initialTokenState({ ...policy, scheduled: false });
    const { state, effects } = run(
      [
        { type: 'wanted', at: 0 },
        { type: 'fetched', grant: A, at: 1 },
        { type: 'fetched', grant: B, at: 2 },
      ],
      pushed,
    );
    expect(state.phase).toEqual({ kind: 'fresh', grant: B });
    expect(effects.filter((e) => e.type === 'schedule')).toEqual([]);
  });
});
