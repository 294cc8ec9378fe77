import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtVerifier, startAthenaServer, type AthenaServer } from '../../../src/testing/index.js';
import { startOidcProvider, type OidcProviderHandle } from '../../support/oidc.js';

const CHILD = fileURLToPath(new URL('../../support/token-exit-child.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
const EXIT_BOUND_MS = 20_000;

describe('refresh timers and process lifetime', () => {
  let auth: OidcProviderHandle;
  let server: AthenaServer;
  let verified = 0;

  beforeAll(async () => {
    auth = await startOidcProvider({ accessTokenTtlSec: 120 });
    const verify = jwtVerifier({ jwksUrl: auth.jwksUrl, issuer: auth.issuer, audience: auth.audience });
    server = await startAthenaServer({
      auth: {
        verify: async (token) => {
          const ok = await verify(token);
          if (ok) verified += 1;
          return ok;
        },
      },
    });
  }, 30_000);

  afterAll(async () => {
    await server?.close();
    await auth?.close();
  });

  it(
    'lets a process that never closes its client exit once its work is done',
    async () => {
      const child = spawn(TSX, [CHILD], {
        env: {
          ...process.env,
          ATHENA_ADDRESS: server.address,
          TOKEN_URL: auth.tokenUrl,
          CLIENT_ID: auth.clientId,
          CLIENT_SECRET: auth.clientSecret,
          AUDIENCE: auth.audience,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const outcome = await new Promise<{ code: number | null; killed: boolean }>((resolve) => {
        const bound = setTimeout(() => {
          child.kill('SIGKILL');
          resolve({ code: null, killed: true });
        }, EXIT_BOUND_MS);
        child.on('exit', (code) => {
          clearTimeout(bound);
          resolve({ code, killed: false });
        });
      });
      expect(outcome, output).toEqual({ code: 0, killed: false });
      expect(output).toContain('listed 0');
      expect(verified).toBeGreaterThanOrEqual(1);
    },
    EXIT_BOUND_MS + 10_000,
  );
});
