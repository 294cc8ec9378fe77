import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveServeSecurity } from '../../src/cli/serve-security.js';

const dir = mkdtempSync(join(tmpdir(), 'athena-serve-security-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('serve TLS and OAuth flags', () => {
  it('refuses flags that do not go together, without quoting a secret', async () => {
    await expect(resolveServeSecurity({ tlsCert: 'a.pem' })).rejects.toThrow(/--tls-key/);
    await expect(
      resolveServeSecurity({ tlsCert: 'a.pem', tlsKey: 'k.pem', tlsSelfSigned: dir }),
    ).rejects.toThrow(/not both/);
    await expect(resolveServeSecurity({ tokenTtl: 5 })).rejects.toThrow(/--token-ttl needs --oauth-client/);
    await expect(resolveServeSecurity({ oauthPort: 9 })).rejects.toThrow(/--oauth-port needs/);
    const error: unknown = await resolveServeSecurity({ oauthClient: ['lonely-secret-value'] }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect(String(error)).not.toContain('lonely-secret-value');
  });

  it('writes a CA and a server certificate it signed with --tls-self-signed, keys private', async () => {
    const out = join(dir, 'tls');
    const security = await resolveServeSecurity({
      tlsSelfSigned: out,
      oauthClient: ['ci:pa:ss', 'other:x'],
      tokenTtl: 7,
      oauthPort: 0,
    });
    expect(security.caFile).toBe(join(out, 'ca.pem'));
    const ca = new X509Certificate(readFileSync(join(out, 'ca.pem')));
    const cert = new X509Certificate(readFileSync(join(out, 'server.pem')));
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(security.tls?.cert).toBe(readFileSync(join(out, 'server.pem'), 'utf8'));
    expect(statSync(join(out, 'server-key.pem')).mode & 0o077).toBe(0);
    expect(statSync(join(out, 'ca-key.pem')).mode & 0o077).toBe(0);
    expect(security.oauth).toEqual({
      clients: [
        { id: 'ci', secret: 'pa:ss' },
        { id: 'other', secret: 'x' },
      ],
      port: 0,
      tokenTtlSec: 7,
    });
  });

  it('reads --tls-cert and --tls-key files', async () => {
    const security = await resolveServeSecurity({
      tlsCert: join(dir, 'tls', 'server.pem'),
      tlsKey: join(dir, 'tls', 'server-key.pem'),
    });
    expect(security.tls?.key).toContain('PRIVATE KEY');
    expect(security.caFile).toBeUndefined();
    expect(security.oauth).toBeUndefined();
  });
});
