import { take } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OAuthError } from '../../../src/errors.js';
import { passwordGrant, type PasswordGrantOptions } from '../../../src/transport/passwordGrant.js';
import { answer, fakeFetch, tokenAnswer } from './fake-fetch.js';

const PASSWORD = 'correct horse battery staple';
const TOKEN_URL = 'https://login.example.com/oauth/token';

function newScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

function options(rest: Partial<PasswordGrantOptions>): PasswordGrantOptions {
  return { tokenUrl: TOKEN_URL, username: 'reviewer@example.com', password: PASSWORD, ...rest };
}

afterEach(() => vi.restoreAllMocks());

describe('passwordGrant', () => {
  it('posts the password grant, then refreshes with the refresh token, keeping it when not rotated', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const endpoint = fakeFetch(scheduler, (call, index) =>
        cold('(r|)', {
          r: tokenAnswer(`t${index}`, 100, index === 0 ? { refresh_token: 'rt-1' } : {}),
        }),
      );
      passwordGrant(
        options({
          clientId: 'app',
          audience: 'crisp-athena-dev',
          scope: 'offline_access',
          fetch: endpoint.fetch,
          scheduler,
        }),
      )
        .pipe(take(3))
        .subscribe();
      scheduler.flush();
      expect(endpoint.calls.map((call) => call.form)).toEqual([
        {
          grant_type: 'password',
          client_id: 'app',
          username: 'reviewer@example.com',
          password: PASSWORD,
          audience: 'crisp-athena-dev',
          scope: 'offline_access',
        },
        { grant_type: 'refresh_token', client_id: 'app', refresh_token: 'rt-1' },
        { grant_type: 'refresh_token', client_id: 'app', refresh_token: 'rt-1' },
      ]);
      expect(endpoint.calls.map((call) => call.at)).toEqual([0, 90_000, 180_000]);
    });
  });

  it('uses a rotated refresh token', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const endpoint = fakeFetch(scheduler, (_call, index) =>
        cold('(r|)', { r: tokenAnswer(`t${index}`, 100, { refresh_token: `rt-${index}` }) }),
      );
      passwordGrant(options({ fetch: endpoint.fetch, scheduler }))
        .pipe(take(3))
        .subscribe();
      scheduler.flush();
      expect(endpoint.calls.map((call) => call.form['refresh_token'])).toEqual([undefined, 'rt-0', 'rt-1']);
    });
  });

  it('falls back to the password when the refresh token is refused', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const endpoint = fakeFetch(scheduler, (call) => {
        if (call.form['grant_type'] === 'refresh_token') {
          return cold('10ms (r|)', { r: answer(400, { error: 'invalid_grant' }) });
        }
        return cold('10ms (r|)', { r: tokenAnswer(`t${call.at}`, 100, { refresh_token: 'rt' }) });
      });
      const source = passwordGrant(options({ fetch: endpoint.fetch, scheduler }));
      expectObservable(source.pipe(take(2))).toBe('10ms a 90009ms (b|)', {
        a: { accessToken: 't0', tokenType: 'Bearer', expiresAt: 100_000 },
        b: { accessToken: 't90010', tokenType: 'Bearer', expiresAt: 190_010 },
      });
      scheduler.flush();
      expect(endpoint.calls.map((call) => [call.at, call.form['grant_type']])).toEqual([
        [0, 'password'],
        [90_000, 'refresh_token'],
        [90_010, 'password'],
      ]);
    });
  });

  it('retries a transient refresh failure with the refresh token rather than the password', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const endpoint = fakeFetch(scheduler, (_call, index) =>
        index === 1
          ? cold('(r|)', { r: answer(502, '') })
          : cold('(r|)', { r: tokenAnswer(`t${index}`, 100, { refresh_token: 'rt' }) }),
      );
      passwordGrant(options({ fetch: endpoint.fetch, scheduler }))
        .pipe(take(2))
        .subscribe();
      scheduler.flush();
      expect(endpoint.calls.map((call) => call.form['grant_type'])).toEqual([
        'password',
        'refresh_token',
        'refresh_token',
      ]);
    });
  });

  it('fails with an OAuthError that shows neither the password nor the refresh token', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const endpoint = fakeFetch(scheduler, (_call, index) =>
        index === 0
          ? cold('(r|)', { r: tokenAnswer('t', 100, { refresh_token: 'rt-secret-value' }) })
          : cold('(r|)', {
              r: answer(403, {
                error: 'invalid_grant',
                error_description: `no: ${PASSWORD} / rt-secret-value`,
              }),
            }),
      );
      let failure: unknown;
      passwordGrant(options({ fetch: endpoint.fetch, scheduler })).subscribe({
        error: (error: unknown) => (failure = error),
      });
      scheduler.flush();
      expect(failure).toBeInstanceOf(OAuthError);
      const { message } = failure as OAuthError;
      expect(message).toContain('HTTP 403 invalid_grant');
      expect(message).not.toContain(PASSWORD);
      expect(message).not.toContain('rt-secret-value');
    });
  });

  it('has a refresh() that forces one request', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const endpoint = fakeFetch(scheduler, () => cold('10ms (r|)', { r: tokenAnswer('t', 100) }));
      const source = passwordGrant(options({ fetch: endpoint.fetch, scheduler }));
      const subscription = source.subscribe();
      scheduler.schedule(() => [1, 2].forEach(() => source.refresh()), 500);
      scheduler.schedule(() => subscription.unsubscribe(), 1_000);
      scheduler.flush();
      expect(endpoint.calls.map((call) => call.at)).toEqual([0, 500]);
    });
  });

  it.each([
    ['a missing tokenUrl', { tokenUrl: undefined }, TypeError],
    ['a missing username', { username: undefined }, TypeError],
    ['an empty password', { password: '' }, RangeError],
    ['an empty clientSecret', { clientSecret: '' }, RangeError],
    ['an empty scope', { scope: '' }, RangeError],
  ])('throws for %s', (_what, rest, type) => {
    const given = { ...options({ fetch: () => [] }), ...rest } as PasswordGrantOptions;
    expect(() => passwordGrant(given)).toThrow(type);
  });
});
