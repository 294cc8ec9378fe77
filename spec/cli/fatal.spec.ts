import { describe, expect, it } from 'vitest';
import { cleanMessage, explainFatal, formatFatal } from '../../src/cli/fatal.js';
import { AthenaError } from '../../src/errors.js';

/** A grpc-js style error: a status number and details. */
function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details });
}

describe('explainFatal', () => {
  it('names a DNS failure and points at the address', () => {
    const fatal = explainFatal(
      new AthenaError(
        'UNAVAILABLE',
        'ListDeployments failed: UNAVAILABLE: Name resolution failed for target dns:nowhere.invalid:443',
      ),
    );
    expect(fatal).toEqual({
      code: 'DNS_FAILED',
      message: 'the host name does not resolve: nowhere.invalid:443',
      hint: 'check the host name in --address or ATHENA_ADDRESS',
    });
  });

  it('finds the cause on a grpc-js error and drops the OpenSSL noise and empty resolution note', () => {
    const fatal = explainFatal(
      grpcError(
        14,
        'No connection established. Last error: Error: 80BC6EDA2E7F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/ssl/record/ssl3_record.c:350:\n. Resolution note: ',
      ),
    );
    expect(fatal.code).toBe('TLS_MISMATCH');
    expect(fatal.hint).toContain('--insecure');
    expect(formatFatal(fatal)).not.toMatch(/Resolution note|ssl3_record/);
  });

  it('adds a hint to a refused connection and keeps its transport code', () => {
    const fatal = explainFatal(
      new AthenaError(
        'UNAVAILABLE',
        'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1 (2026-01-01). Resolution note: ',
      ),
    );
    expect(fatal.code).toBe('UNAVAILABLE');
    expect(fatal.message).toBe(
      'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1 (2026-01-01) (connection refused)',
    );
    expect(fatal.hint).toMatch(/is the service running/);
  });

  it('recognises certificate problems', () => {
    for (const text of [
      'self-signed certificate',
      'unable to verify the first certificate',
      'certificate has expired',
    ]) {
      expect(explainFatal(new AthenaError('UNAVAILABLE', `Last error: Error: ${text}`)).code).toBe(
        'CERTIFICATE_INVALID',
      );
    }
  });

  it('prints a plain error without a hint line, and wraps anything thrown', () => {
    expect(formatFatal(explainFatal(new Error('boom')))).toBe('athena-rx: UNKNOWN: boom\n');
    expect(cleanMessage('a\n. Resolution note: ')).toBe('a');
  });
});
