import { NEVER, take, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OAuthError } from '../../../src/errors.js';
import {
  clientCredentials,
  DEFAULT_TOKEN_URL,
  type ClientCredentialsOptions,
  type TokenHttpResponse,
} from '../../../src/transport/clientCredentials.js';
import { answer, fakeFetch, tokenAnswer } from './fake-fetch.js';

const SECRET = 's3cr3t-Value+/=';

function newScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

function token(accessToken: string, expiresAt: number, tokenType = 'Bearer') {
  return { accessToken, tokenType, expiresAt };
}

function options(rest: Partial<ClientCredentialsOptions>): ClientCredentialsOptions {
  return { clientId: 'athena-client', clientSecret: SECRET, ...rest };
}

afterEach(() => vi.restoreAllMocks());

describe('clientCredentials: the request', () => {
  it('posts the Auth0 client-credentials form with the defaults and uses token_type as given', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const endpoint = fakeFetch(scheduler, () =>
        cold('10ms (r|)', { r: answer(200, { access_token: 'a', token_type: 'bearer', expires_in: 100 }) }),
      );
      const source = clientCredentials(options({ fetch: endpoint.fetch, scheduler }));
      expectObservable(source.pipe(take(1))).toBe('10ms (a|)', { a: token('a', 100_000, 'bearer') });
      scheduler.flush();
      expect(endpoint.calls).toHaveLength(1);
      const [call] = endpoint.calls;
      expect(call?.url).toBe(DEFAULT_TOKEN_URL);
      expect(call?.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(call?.form).toEqual({
        grant_type: 'client_credentials',
        client_id: 'athena-client',
        client_secret: SECRET,
        audience: 'crisp-athena-live',
      });
    });
  });

  it('sends audience and scope when given', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const endpoint = fakeFetch(scheduler, () => cold('(r|)', { r: tokenAnswer('a', 100) }));
      const source = clientCredentials(
        options({ audience: 'crisp-athena-qa', scope: 'classify list', fetch: endpoint.fetch, scheduler }),
      );
      source.pipe(take(1)).subscribe();
      scheduler.flush();
      expect(endpoint.calls[0]?.form).toMatchObject({ audience: 'crisp-athena-qa', scope: 'classify list' });
    });
  });
});

describe('clientCredentials: refresh timing', () => {
  it('refreshes a tenth of the lifetime before expiry when that is less than the margin', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const endpoint = fakeFetch(scheduler, (_call, index) =>
        cold('10ms (r|)', { r: tokenAnswer(`t${index}`, 100) }),
      );
      const source = clientCredentials(options({ fetch: endpoint.fetch, scheduler }));
      // 100 s lifetime: the 60 s margin is capped at 10 s, so the refresh starts at 90 s after the request.
      expectObservable(source, '^ 180100ms !').toBe('10ms a 89999ms b 89999ms c', {
        a: token('t0', 100_000),
        b: token('t1', 190_000),
        c: token('t2', 280_000),
      });
      scheduler.flush();
      expect(endpoint.calls.map((call) => call.at)).toEqual([0, 90_000, 180_000]);
    });
  });

  it('refreshes refreshMarginMs before expiry for long-lived tokens (default 60 s)', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const endpoint = fakeFetch(scheduler, () => cold('(r|)', { r: tokenAnswer('t', 86_400) }));
      clientCredentials(options({ fetch: endpoint.fetch, scheduler }))
        .pipe(take(3))
        .subscribe();
      clientCredentials(options({ fetch: endpoint.fetch, scheduler, refreshMarginMs: 5_000 }))
        .pipe(take(2))
        .subscribe();
      scheduler.flush();
      const times = endpoint.calls.map((call) => call.at).sort((a, b) => a - b);
      expect(times).toEqual([0, 0, 86_340_000, 86_395_000, 172_680_000]);
    });
  });

  it('waits out lifetimes longer than a timer can hold without firing early', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const endpoint = fakeFetch(scheduler, () => cold('(r|)', { r: tokenAnswer('t', 60 * 86_400) }));
      clientCredentials(options({ fetch: endpoint.fetch, scheduler }))
        .pipe(take(2))
        .subscribe();
      scheduler.flush();
      expect(endpoint.calls.map((call) => call.at)).toEqual([0, 60 * 86_400_000 - 60_000]);
    });
  });
});

describe('clientCredentials: sharing', () => {
  it('makes one request for many subscribers and replays the latest token to late ones', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const endpoint = fakeFetch(scheduler, (_call, index) =>
        cold('10ms (r|)', { r: tokenAnswer(`t${index}`, 100) }),
      );
      const source = clientCredentials(options({ fetch: endpoint.fetch, scheduler }));
      const values = { a: token('t0', 100_000), b: token('t1', 190_000) };
      expectObservable(source, '^ 95000ms !').toBe('10ms a 89999ms b', values);
      expectObservable(source, '---^ 95000ms !').toBe('10ms a 89999ms b', values);
      expectObservable(source, '50ms ^ 95000ms !').toBe('50ms a 89959ms b', values);
      expectObservable(source, '91000ms ^ 1000ms !').toBe('91000ms b', values);
      scheduler.flush();
      expect(endpoint.calls).toHaveLength(2);
    });
  });

  it('stops when the last subscriber leaves and reuses a token that is not yet due', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const endpoint = fakeFetch(scheduler, (_call, index) =>
        cold('10ms (r|)', { r: tokenAnswer(`t${index}`, 100) }),
      );
      const source = clientCredentials(options({ fetch: endpoint.fetch, scheduler }));
      const values = { a: token('t0', 100_000), b: token('t1', 190_000) };
      expectObservable(source, '^ 20ms !').toBe('10ms a', values);
      // Back before the refresh is due: the cached token, no request; its refresh runs at 90 s.
      expectObservable(source, '1000ms ^ 90000ms !').toBe('1000ms a 89009ms b', values);
      // Back after it is due: a new request at once.
      expectObservable(source, '200000ms ^ 100ms !').toBe('200010ms c', { c: token('t2', 300_000) });
      scheduler.flush();
      expect(endpoint.calls.map((call) => call.at)).toEqual([0, 90_000, 200_000]);
    });
  });

  it('aborts the request in flight when the last subscriber leaves', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const endpoint = fakeFetch(scheduler, () => cold('50ms (r|)', { r: tokenAnswer('t', 100) }));
      const source = clientCredentials(options({ fetch: endpoint.fetch, scheduler }));
      expectObservable(source, '^ 20ms !').toBe('');
      scheduler.flush();
      expect(endpoint.calls).toHaveLength(1);
      expect(endpoint.calls[0]?.signal.aborted).toBe(true);
    });
  });

  it('does not abort a request that finished', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const endpoint = fakeFetch(scheduler, () => cold('5ms (r|)', { r: tokenAnswer('t', 100) }));
      clientCredentials(options({ fetch: endpoint.fetch, scheduler }))
        .pipe(take(1))
        .subscribe();
      scheduler.flush();
      expect(endpoint.calls[0]?.signal.aborted).toBe(false);
    });
  });
});

describe('clientCredentials: refresh()', () => {
  it('forces exactly one request however often it is called, and ignores calls while one runs', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const endpoint = fakeFetch(scheduler, (_call, index) =>
        cold('10ms (r|)', { r: tokenAnswer(`t${index}`, 100) }),
      );
      const source = clientCredentials(options({ fetch: endpoint.fetch, scheduler }));
      scheduler.schedule(() => [1, 2, 3].forEach(() => source.refresh()), 100);
      scheduler.schedule(() => source.refresh(), 105);
      expectObservable(source, '^ 95000ms !').toBe('10ms a 99ms b 89999ms c', {
        a: token('t0', 100_000),
        b: token('t1', 100_100),
        c: token('t2', 190_100),
      });
      scheduler.flush();
      expect(endpoint.calls.map((call) => call.at)).toEqual([0, 100, 90_100]);
    });
  });

  it('without subscribers, makes the next subscriber fetch instead of reusing the cached token', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const endpoint = fakeFetch(scheduler, (_call, index) =>
        cold('10ms (r|)', { r: tokenAnswer(`t${index}`, 100) }),
      );
      const source = clientCredentials(options({ fetch: endpoint.fetch, scheduler }));
      expectObservable(source, '^ 20ms !').toBe('10ms a', { a: token('t0', 100_000) });
      scheduler.schedule(() => source.refresh(), 30);
      expectObservable(source, '50ms ^ 20ms !').toBe('60ms b', { b: token('t1', 100_050) });
      scheduler.flush();
      expect(endpoint.calls.map((call) => call.at)).toEqual([0, 50]);
    });
  });
});

describe('clientCredentials: failures', () => {
  it('retries network errors, 500 and 429 with jittered backoff, honouring Retry-After', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const failures = [
        cold<TokenHttpResponse>('10ms #', undefined, new TypeError('fetch failed')),
        cold('10ms (r|)', { r: answer(500, 'upstream broke') }),
        cold('10ms (r|)', { r: answer(429, { error: 'too_many_requests' }, { 'retry-after': '3' }) }),
      ];
      const endpoint = fakeFetch(
        scheduler,
        (_call, index) => failures[index] ?? cold('10ms (r|)', { r: tokenAnswer('t', 100) }),
      );
      const source = clientCredentials(
        options({
          fetch: endpoint.fetch,
          scheduler,
          retry: { initialDelayMs: 100, maxDelayMs: 1_000, multiplier: 2 },
        }),
      );
      expectObservable(source.pipe(take(1))).toBe('3190ms (a|)', { a: token('t', 3_180 + 100_000) });
      scheduler.flush();
      // Delays: 0.5 x 100, 0.5 x 200, then max(0.5 x 400, Retry-After 3 s).
      expect(endpoint.calls.map((call) => call.at)).toEqual([0, 60, 170, 3_180]);
    });
  });

  it('gives up after maxAttempts with the last error', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const endpoint = fakeFetch(scheduler, () => cold('10ms (r|)', { r: answer(503, '') }));
      const source = clientCredentials(
        options({ fetch: endpoint.fetch, scheduler, retry: { maxAttempts: 3 } }),
      );
      expectObservable(source).toBe(
        '30ms #',
        undefined,
        new OAuthError(`Token endpoint ${DEFAULT_TOKEN_URL} answered HTTP 503`, { httpStatus: 503 }),
      );
      scheduler.flush();
      expect(endpoint.calls).toHaveLength(3);
    });
  });

  it('fails at once when Retry-After reaches past the retry budget', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const endpoint = fakeFetch(scheduler, () =>
        cold('10ms (r|)', { r: answer(429, {}, { 'retry-after': '120' }) }),
      );
      const source = clientCredentials(options({ fetch: endpoint.fetch, scheduler }));
      expectObservable(source).toBe('10ms #', undefined, expect.any(OAuthError));
      scheduler.flush();
      expect(endpoint.calls).toHaveLength(1);
    });
  });

  it.each([
    [401, { error: 'access_denied', error_description: 'Unauthorized' }],
    [403, { error: 'unauthorized_client', error_description: 'Client has not been granted scopes' }],
    [400, { error: 'invalid_request', error_description: 'Service not found: nope' }],
  ])('fails HTTP %i at once with a typed OAuthError', (status, body) => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const endpoint = fakeFetch(scheduler, () => cold('10ms (r|)', { r: answer(status, body) }));
      let failure: unknown;
      clientCredentials(options({ fetch: endpoint.fetch, scheduler })).subscribe({
        error: (error: unknown) => (failure = error),
      });
      scheduler.flush();
      expect(endpoint.calls).toHaveLength(1);
      expect(failure).toBeInstanceOf(OAuthError);
      const error = failure as OAuthError;
      expect(error.code).toBe('OAUTH_ERROR');
      expect(error.httpStatus).toBe(status);
      expect(error.error).toBe(body.error);
      expect(error.errorDescription).toBe(body.error_description);
      expect(error.message).toContain(`HTTP ${status}`);
      expect(error.message).toContain(body.error);
      expect(error.message).toContain(body.error_description);
      expect(error.message).not.toContain(SECRET);
    });
  });

  it('never lets the secret into a message, even when the server or the network echoes it', () => {
    const scheduler = newScheduler();
    const encoded = new URLSearchParams({ s: SECRET }).toString().slice(2);
    scheduler.run(({ cold }) => {
      const answers = [
        cold('(r|)', { r: answer(401, { error: 'invalid_client', error_description: `bad ${SECRET}` }) }),
        cold('(r|)', { r: answer(401, { error: 'invalid_client', error_description: `bad ${encoded}` }) }),
      ];
      const messages: string[] = [];
      for (const reply of answers) {
        const endpoint = fakeFetch(scheduler, () => reply);
        clientCredentials(options({ fetch: endpoint.fetch, scheduler })).subscribe({
          error: (error: Error) => messages.push(error.message),
        });
      }
      const network = fakeFetch(scheduler, () => throwError(() => new Error(`refused ${SECRET}`)));
      clientCredentials(options({ fetch: network.fetch, scheduler, retry: { maxAttempts: 1 } })).subscribe({
        error: (error: Error) => messages.push(error.message),
      });
      scheduler.flush();
      expect(messages).toHaveLength(3);
      for (const message of messages) {
        expect(message).toContain('<redacted>');
        expect(message).not.toContain(SECRET);
        expect(message).not.toContain(encoded);
      }
    });
  });

  it('times out a request that never answers, aborting it, and retries', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const endpoint = fakeFetch(scheduler, (_call, index) =>
        index === 0 ? NEVER : cold('(r|)', { r: tokenAnswer('t', 100) }),
      );
      const source = clientCredentials(options({ fetch: endpoint.fetch, scheduler, timeoutMs: 1_000 }));
      expectObservable(source.pipe(take(1))).toBe('1000ms (a|)', { a: token('t', 101_000) });
      scheduler.flush();
      expect(endpoint.calls[0]?.signal.aborted).toBe(true);
    });
  });

  it.each([
    ['no access_token', { token_type: 'Bearer', expires_in: 100 }],
    ['an access_token with a space', { access_token: 'a b', expires_in: 100 }],
    ['a zero expires_in', { access_token: 'a', expires_in: 0 }],
    ['a non-numeric expires_in', { access_token: 'a', expires_in: 'soon' }],
    ['a token_type that is not a word', { access_token: 'a', token_type: 'Be arer', expires_in: 100 }],
    ['HTML', '<html>login</html>'],
  ])('rejects a 200 answer with %s, without retrying', (_what, body) => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const endpoint = fakeFetch(scheduler, () => cold('(r|)', { r: answer(200, body) }));
      expectObservable(clientCredentials(options({ fetch: endpoint.fetch, scheduler }))).toBe(
        '#',
        undefined,
        expect.objectContaining({ name: 'OAuthError', httpStatus: 200 }),
      );
      scheduler.flush();
      expect(endpoint.calls).toHaveLength(1);
    });
  });

  it('accepts expires_in as a numeric string and a missing token_type as Bearer', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const endpoint = fakeFetch(scheduler, () =>
        cold('(r|)', { r: answer(200, { access_token: 'a', expires_in: '100' }) }),
      );
      expectObservable(clientCredentials(options({ fetch: endpoint.fetch, scheduler })).pipe(take(1))).toBe(
        '(a|)',
        { a: token('a', 100_000) },
      );
    });
  });

  it('accepts an answer without expires_in for defaultExpiresInS (3600 s unless given)', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const endpoint = fakeFetch(scheduler, (_call, index) =>
        cold('(r|)', { r: answer(200, { access_token: `t${index}`, token_type: 'Bearer' }) }),
      );
      const source = clientCredentials(options({ fetch: endpoint.fetch, scheduler }));
      // Refreshed a minute before the assumed expiry, like any other token.
      expectObservable(source.pipe(take(2))).toBe('a 3539999ms (b|)', {
        a: token('t0', 3_600_000),
        b: token('t1', 3_540_000 + 3_600_000),
      });
      const other = fakeFetch(scheduler, () => cold('(r|)', { r: answer(200, { access_token: 'c' }) }));
      const short = clientCredentials(options({ fetch: other.fetch, scheduler, defaultExpiresInS: 20 }));
      expectObservable(short.pipe(take(1))).toBe('(c|)', { c: token('c', 20_000) });
    });
  });

  it('starts over on the next subscription after an error', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const endpoint = fakeFetch(scheduler, (_call, index) =>
        index === 0 ? cold('(r|)', { r: answer(401, {}) }) : cold('(r|)', { r: tokenAnswer('t', 100) }),
      );
      const source = clientCredentials(options({ fetch: endpoint.fetch, scheduler }));
      expectObservable(source).toBe('#', undefined, expect.any(OAuthError));
      expectObservable(source, '5ms ^ 10ms !').toBe('5ms a', { a: token('t', 100_005) });
    });
  });
});

describe('clientCredentials: arguments', () => {
  const fetch = () => NEVER;

  it.each([
    ['a missing options object', undefined, TypeError],
    ['a tokenUrl that does not parse', { tokenUrl: 'not a url' }, TypeError],
    ['plain http to a remote host', { tokenUrl: 'http://auth.example.com/oauth/token' }, RangeError],
    ['user info in the tokenUrl', { tokenUrl: 'https://u:p@auth.example.com/token' }, RangeError],
    ['an empty clientId', { clientId: '' }, RangeError],
    ['a missing clientSecret', { clientSecret: undefined }, TypeError],
    ['an empty clientSecret', { clientSecret: '' }, RangeError],
    ['an empty audience', { audience: '' }, RangeError],
    ['a negative refreshMarginMs', { refreshMarginMs: -1 }, RangeError],
    ['a zero timeoutMs', { timeoutMs: 0 }, RangeError],
    ['a zero defaultExpiresInS', { defaultExpiresInS: 0 }, RangeError],
    ['a bad retry policy', { retry: { maxAttempts: 0 } }, RangeError],
    ['a fetch that is not a function', { fetch: 'fetch' }, TypeError],
    ['a scheduler that is not one', { scheduler: {} }, TypeError],
  ])('throws for %s', (_what, rest, type) => {
    const given = rest === undefined ? undefined : { ...options({ fetch }), ...rest };
    expect(() => clientCredentials(given as ClientCredentialsOptions)).toThrow(type);
  });

  it('accepts plain http to a loopback host', () => {
    expect(() => clientCredentials(options({ tokenUrl: 'http://127.0.0.1:9/token', fetch }))).not.toThrow();
  });

  it('never shows the secret in a validation message', () => {
    const secret = 12345678901;
    expect(() =>
      clientCredentials({ clientId: 'c', clientSecret: secret as unknown as string, fetch }),
    ).toThrow(/^clientSecret must be a string$/);
  });

  it('does not start a request before subscription', () => {
    const scheduler = newScheduler();
    const endpoint = fakeFetch(scheduler, () => NEVER);
    clientCredentials(options({ fetch: endpoint.fetch, scheduler }));
    expect(endpoint.calls).toHaveLength(0);
  });
});
