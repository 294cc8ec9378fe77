import { describe, expect, it } from 'vitest';
import { resolveSettings } from '../../src/cli/settings.js';

describe('CLI settings', () => {
  it('prefers flags over the environment', () => {
    const settings = resolveSettings(
      { address: 'flag:1', affiliate: 'a1' },
      { ATHENA_ADDRESS: 'env:2', ATHENA_AFFILIATE: 'a2', ATHENA_DEPLOYMENT_ID: 'd' },
    );
    expect(settings).toMatchObject({
      address: 'flag:1',
      affiliate: 'a1',
      deployment: 'd',
      auth: { kind: 'none' },
    });
  });

  it('reads client credentials from the environment', () => {
    const settings = resolveSettings(
      {},
      { ATHENA_CLIENT_ID: 'id', ATHENA_CLIENT_SECRET: 's3cret', ATHENA_AUDIENCE: 'crisp-athena-dev' },
    );
    expect(settings.auth).toEqual({
      kind: 'client-credentials',
      clientId: 'id',
      clientSecret: 's3cret',
      audience: 'crisp-athena-dev',
    });
  });

  it('uses a static token before client credentials', () => {
    expect(resolveSettings({}, { ATHENA_TOKEN: 't', ATHENA_CLIENT_ID: 'id' }).auth).toEqual({
      kind: 'token',
      token: 't',
    });
  });

  it('names what is missing without echoing the secret', () => {
    expect(() => resolveSettings({}, { ATHENA_CLIENT_SECRET: 'hunter2' })).toThrow(/client id/);
    try {
      resolveSettings({}, { ATHENA_CLIENT_SECRET: 'hunter2' });
    } catch (error) {
      expect(String(error)).not.toContain('hunter2');
    }
  });
});
