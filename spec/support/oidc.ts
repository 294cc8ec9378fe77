/**
 * A real OAuth 2 authorization server for tests: `oidc-provider` on 127.0.0.1 (ephemeral port) issuing
 * short-lived JWT access tokens with the client-credentials grant, shaped like Auth0 as PROTOCOL.md
 * describes it.
 *
 * Auth0 names the API with an `audience` form parameter; the standard (RFC 8707) says `resource`, and
 * oidc-provider wants resource indicators to be absolute URIs. So the provider accepts `audience` as
 * the resource indicator: when a request carries no `resource`, `defaultResource` reads `audience`
 * from the posted form and turns it into `urn:athena:audience:<audience>`, and `getResourceServerInfo`
 * maps that back so the token's `aud` claim is the bare audience (`crisp-athena-live`), exactly what
 * Auth0 puts there. An audience the provider does not serve is refused with `invalid_target`.
 *
 * Reuse: `const auth = await startOidcProvider(); ... clientCredentials(auth.credentials())`, and
 * `jwtVerifier({ jwksUrl: auth.jwksUrl, issuer: auth.issuer, audience: auth.audience })` for a server.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import { errors, Provider, type Adapter, type AdapterPayload, type KoaContextWithOIDC } from 'oidc-provider';

export interface OidcProviderOptions {
  /** Lifetime of access tokens in whole seconds (default 2). */
  readonly accessTokenTtlSec?: number;
  /** Audiences the provider serves (default `crisp-athena-live` and `crisp-athena-qa`). */
  readonly audiences?: readonly string[];
}

export interface OidcProviderHandle {
  /** `iss` of the tokens, as discovery publishes it. */
  readonly issuer: string;
  readonly tokenUrl: string;
  readonly jwksUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The first audience served. */
  readonly audience: string;
  readonly audiences: readonly string[];
  readonly accessTokenTtlSec: number;
  /** Options for `clientCredentials` against this provider. */
  credentials(overrides?: Record<string, unknown>): {
    tokenUrl: string;
    clientId: string;
    clientSecret: string;
    audience: string;
  };
  close(): Promise<void>;
}

const AUDIENCE_URN = 'urn:athena:audience:';

export async function startOidcProvider(options: OidcProviderOptions = {}): Promise<OidcProviderHandle> {
  const ttl = options.accessTokenTtlSec ?? 2;
  const audiences = options.audiences ?? ['crisp-athena-live', 'crisp-athena-qa'];
  const clientId = 'athena-test-client';
  const clientSecret = `secret-${crypto.randomUUID()}`;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'test-es256', alg: 'ES256', use: 'sig' };

  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const provider = new Provider(`http://127.0.0.1:${port}`, {
    adapter: memoryAdapter(),
    jwks: { keys: [signingKey] },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx: KoaContextWithOIDC) => {
          const audience = (ctx.oidc.body as Record<string, unknown> | undefined)?.['audience'];
          return typeof audience === 'string' ? `${AUDIENCE_URN}${encodeURIComponent(audience)}` : undefined;
        },
        getResourceServerInfo: (_ctx: KoaContextWithOIDC, indicator: string) => {
          const audience = indicator.startsWith(AUDIENCE_URN)
            ? decodeURIComponent(indicator.slice(AUDIENCE_URN.length))
            : indicator;
          if (!audiences.includes(audience)) throw new errors.InvalidTarget(`unknown audience`);
          return {
            scope: 'classify',
            audience,
            accessTokenTTL: ttl,
            accessTokenFormat: 'jwt' as const,
            jwt: { sign: { alg: 'ES256' } },
          };
        },
        useGrantedResource: () => true,
      },
    },
    ttl: { ClientCredentials: ttl },
  });
  server.on('request', provider.callback());

  const discovery = (await (
    await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`)
  ).json()) as { issuer: string; token_endpoint: string; jwks_uri: string };

  return {
    issuer: discovery.issuer,
    tokenUrl: discovery.token_endpoint,
    jwksUrl: discovery.jwks_uri,
    clientId,
    clientSecret,
    audience: audiences[0] as string,
    audiences,
    accessTokenTtlSec: ttl,
    credentials: (overrides = {}) => ({
      tokenUrl: discovery.token_endpoint,
      clientId,
      clientSecret,
      audience: audiences[0] as string,
      ...overrides,
    }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** oidc-provider's storage, one per provider (its default is process-wide and warns on the console). */
function memoryAdapter(): (name: string) => Adapter {
  const stores = new Map<string, Map<string, AdapterPayload>>();
  return (name) => {
    const store = stores.get(name) ?? new Map<string, AdapterPayload>();
    stores.set(name, store);
    const find = (match: (payload: AdapterPayload) => boolean) =>
      Promise.resolve([...store.values()].find(match));
    return {
      upsert: async (id, payload) => void store.set(id, payload),
      find: async (id) => store.get(id),
      findByUserCode: (code) => find((payload) => payload.userCode === code),
      findByUid: (uid) => find((payload) => payload.uid === uid),
      consume: async (id) => {
        const payload = store.get(id);
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      destroy: async (id) => void store.delete(id),
      revokeByGrantId: async (grantId) => {
        for (const [id, payload] of store) if (payload.grantId === grantId) store.delete(id);
      },
    };
  };
}
