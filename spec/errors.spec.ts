import { Metadata, status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { AthenaError, redactUrls } from '../src/errors.js';
import { forgetSecrets, registerSecret } from '../src/internal/secrets/scrub.js';

afterEach(() => forgetSecrets());

function serviceError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), {
    code,
    details,
    metadata: new Metadata(),
  });
}

describe('AthenaError.from', () => {
  it('turns a grpc-js error into its status, scrubbed and cut, without keeping it as cause', () => {
    registerSecret('live-access-token-123');
    const error = AthenaError.from(
      serviceError(status.PERMISSION_DENIED, `token LIVE-ACCESS-TOKEN-123 refused ${'x'.repeat(5000)}`),
    );
    expect(error.code).toBe('PERMISSION_DENIED');
    expect(error.status).toBe(status.PERMISSION_DENIED);
    expect(error.message.startsWith('token <redacted> refused xxx')).toBe(true);
    expect(error.message).toMatch(/… \[\d+ more characters cut\]$/);
    expect(error.message.length).toBeLessThan(1100);
    expect(error.details).toBe(error.message);
    expect(error.cause).toBeUndefined();
    expect(error.stack).not.toMatch(/live-access-token/i);
  });

  it('keeps an AthenaError and wraps other errors with their message and cause', () => {
    const own = new AthenaError('TIMEOUT', 'late');
    expect(AthenaError.from(own)).toBe(own);
    const plain = new Error('plain');
    const wrapped = AthenaError.from(plain, 'READ_FAILED');
    expect([wrapped.code, wrapped.message, wrapped.cause]).toEqual(['READ_FAILED', 'plain', plain]);
    expect(AthenaError.from(serviceError(status.OK, 'odd')).code).toBe('UNKNOWN');
  });
});

describe('redactUrls', () => {
  it('redacts the query, fragment and user info of every URL in a text, and leaves the rest', () => {
    const text =
      'failed to fetch https://user:pw@cdn.example/wasm/mozjpeg_dec.wasm?sig=SECRET1#x, then ' +
      "'http://127.0.0.1:8080/w.js?token=SECRET2' and file 2.jpg";
    const out = redactUrls(text);
    expect(out).not.toMatch(/SECRET|user|pw@/);
    expect(out).toBe(
      "failed to fetch https://cdn.example/wasm/mozjpeg_dec.wasm?<redacted> then 'http://127.0.0.1:8080/w.js?<redacted>' and file 2.jpg",
    );
  });
});
