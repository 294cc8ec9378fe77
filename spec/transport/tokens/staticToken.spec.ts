import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { staticToken } from '../../../src/transport/staticToken.js';

function newScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('staticToken', () => {
  it('emits a string once as a Bearer token that never expires, and completes', () => {
    newScheduler().run(({ expectObservable }) => {
      expectObservable(staticToken('abc.def')).toBe('(a|)', {
        a: { accessToken: 'abc.def', tokenType: 'Bearer', expiresAt: Number.POSITIVE_INFINITY },
      });
    });
  });

  it('keeps the fields of an AccessToken, to every subscriber', () => {
    const given = { accessToken: 'xyz', tokenType: 'DPoP', expiresAt: 1_700_000_000_000 };
    const source = staticToken(given);
    newScheduler().run(({ expectObservable }) => {
      expectObservable(source).toBe('(a|)', { a: given });
      expectObservable(source, '5ms ^').toBe('5ms (a|)', { a: given });
    });
  });

  it('offers no refresh(), so a refused call is not retried with the same token', () => {
    expect('refresh' in staticToken('t')).toBe(false);
  });

  it.each([
    ['an empty string', '', RangeError],
    ['a token with a space', 'bad token', RangeError],
    ['a token with a newline', 'bad\ntoken', RangeError],
    ['a number', 42, TypeError],
    ['null', null, TypeError],
    ['a bad tokenType', { accessToken: 't', tokenType: '' }, TypeError],
    ['a bad expiresAt', { accessToken: 't', expiresAt: 'later' }, TypeError],
  ])('throws for %s without showing the token', (_what, value, type) => {
    let thrown: unknown;
    try {
      staticToken(value as string);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(type);
    expect((thrown as Error).message).not.toMatch(/bad.token|42/);
  });
});
