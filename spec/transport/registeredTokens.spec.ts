import { Subject } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { forgetSecrets, scrubText } from '../../src/internal/secrets.js';
import type { AccessToken, TokenSource } from '../../src/transport/contracts.js';
import { withRegisteredTokens } from '../../src/transport/registeredTokens.js';
import { staticToken } from '../../src/transport/staticToken.js';

const token = (accessToken: string): AccessToken => ({
  accessToken,
  tokenType: 'Bearer',
  expiresAt: Infinity,
});

afterEach(() => forgetSecrets());

describe('withRegisteredTokens', () => {
  it('registers each token as it passes, before the subscriber sees it', () => {
    const subject = new Subject<AccessToken>();
    const seen: string[] = [];
    withRegisteredTokens(subject).subscribe((t) => seen.push(scrubText(`got ${t.accessToken}`)));
    expect(scrubText('first-token-1 second-token-2')).toBe('first-token-1 second-token-2');
    subject.next(token('first-token-1'));
    subject.next(token('second-token-2'));
    expect(seen).toEqual(['got <redacted>', 'got <redacted>']);
    expect(scrubText('first-token-1 second-token-2')).toBe('<redacted> <redacted>');
  });

  it('keeps refresh(), called on the source, and adds none where the source has none', () => {
    const subject = new Subject<AccessToken>();
    const calls: unknown[] = [];
    const source: TokenSource = Object.assign(subject.asObservable(), {
      refresh(this: unknown) {
        calls.push(this);
      },
    });
    const wrapped = withRegisteredTokens(source);
    wrapped.refresh?.();
    expect(calls).toEqual([source]);
    expect(withRegisteredTokens(staticToken('static-token')).refresh).toBeUndefined();
  });
});
