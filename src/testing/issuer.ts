/**
 * The built-in OAuth 2 issuer of the embedded server: an HTTP(S) shell around the token endpoint's
 * decisions (token-grant.ts) that signs JWT access tokens and checks them for the gRPC side.
 */
import { randomUUID } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { errors, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { assertInteger, assertString } from '../internal/core/validate.js';
import { DEFAULT_AUDIENCE } from '../transport/clientCredentials.js';
import { type AthenaServerAuth } from './auth.js';
import { type TokenVerifier } from './jwtVerifier.js';
import { decideTokenRequest, parseOAuthClient, readTokenRequest, type OAuthClient } from './token-grant.js';

/** The audience of the live service: the default audience of the built-in issuer and of the server's check. */
export const DEFAULT_ISSUER_AUDIENCE = DEFAULT_AUDIENCE;

/** Options of {@link startTokenIssuer}. */
export interface TokenIssuerOptions {
  /** The clients allowed the client-credentials grant: `{ id, secret }` or `'ID:SECRET'`; at least one. */
  readonly clients: Iterable<OAuthClient | string>;
  /** Interface to bind. Default `127.0.0.1`. */
  readonly host?: string;
  /** Port to bind; 0 (default) picks a free one. */
  readonly port?: number;
  /** Serve HTTPS with this PEM key and certificate; default plain HTTP. */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** The audience a request without one gets, and the only one {@link TokenIssuer.verify} accepts. Default `crisp-athena-live`. */
  readonly audience?: string;
  /**
   * Audiences tokens are issued for (others are refused `access_denied`). Default `audience`,
   * `crisp-athena-dev` and `crisp-athena-qa`, as Auth0 serves them; a token for any but `audience`
   * is a real, signed token that the server still refuses.
   */
  readonly audiences?: readonly string[];
  /** Lifetime of access tokens in whole seconds. Default 3600. */
  readonly tokenTtlSec?: number;
  /** Clock of `iat` / `exp` and of the checks (`scheduler.now()`). Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** A running built-in OAuth 2 issuer. */
export interface TokenIssuer {
  /** `iss` of its tokens and the base of discovery, e.g. `https://127.0.0.1:50123/`. */
  readonly issuer: string;
  /** The client-credentials token endpoint: `<issuer>oauth/token`. */
  readonly tokenUrl: string;
  /** The JSON Web Key Set: `<issuer>.well-known/jwks.json`. */
  readonly jwksUrl: string;
  readonly port: number;
  readonly audience: string;
  readonly audiences: readonly string[];
  readonly tokenTtlSec: number;
  /** Access tokens issued so far. */
  readonly tokensIssued: number;
  /** Resolves `true` for a token this issuer signed, for `audience`, not expired. */
  readonly verify: TokenVerifier;
  /** Closes the port and every connection; calling it again returns the same promise. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;

/**
 * Starts an OAuth 2 authorization server for the client-credentials grant, shaped like the Auth0
 * tenant the public service uses: `GET /.well-known/openid-configuration` (also served as
 * `/.well-known/oauth-authorization-server`), `GET /.well-known/jwks.json`, and `POST /oauth/token`
 * taking form or JSON bodies with the client secret in the body or in HTTP Basic. Access tokens are
 * ES256 JWTs with `iss`, `sub` (`<client id>@clients`), `aud`, `azp`, `iat`, `exp` and `jti`; `exp` is
 * never earlier than `expires_in` promises. Signing keys are fresh per issuer, so tokens of another
 * issuer never verify.
 *
 * @example
 * ```ts
 * import { startTokenIssuer } from 'athena-rx/testing';
 *
 * const issuer = await startTokenIssuer({ clients: ['ci:s3cret'], tokenTtlSec: 60 });
 * // POST issuer.tokenUrl with grant_type=client_credentials&client_id=ci&client_secret=s3cret
 * await issuer.close();
 * ```
 * @throws TypeError / RangeError at once for invalid options (no client, a bad `ID:SECRET`, an
 *   audience not in `audiences`).
 */
export async function startTokenIssuer(options: TokenIssuerOptions): Promise<TokenIssuer> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const clients = new Map<string, string>();
  for (const client of options.clients ?? []) {
    const { id, secret } = typeof client === 'string' ? parseOAuthClient(client) : checkClient(client);
    clients.set(id, secret);
  }
  if (clients.size === 0) throw new RangeError('the issuer needs at least one client');
  const audience = assertString('audience', options.audience ?? DEFAULT_ISSUER_AUDIENCE);
  const audiences = [...new Set(options.audiences ?? [audience, 'crisp-athena-dev', 'crisp-athena-qa'])];
  audiences.forEach((value, i) => assertString(`audiences[${i}]`, value));
  if (!audiences.includes(audience)) throw new RangeError('audiences must include audience');
  const ttl = assertInteger('tokenTtlSec', options.tokenTtlSec ?? 3600, 1, 365 * 86_400);
  const host = assertString('host', options.host ?? '127.0.0.1');
  const port = assertInteger('port', options.port ?? 0, 0, 65_535);
  const scheduler = options.scheduler ?? asyncScheduler;

  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = randomUUID();
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] };
  const server: Server =
    options.tls === undefined
      ? createHttpServer()
      : createHttpsServer({ key: options.tls.key, cert: options.tls.cert });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const issuer = `${options.tls === undefined ? 'http' : 'https'}://${urlHost(host)}:${bound}/`;
  const discovery = {
    issuer,
    token_endpoint: `${issuer}oauth/token`,
    jwks_uri: `${issuer}.well-known/jwks.json`,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    response_types_supported: ['token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256'],
  };
  let issued = 0;
  const policy = { clients, audiences, defaultAudience: audience };

  const grant = async (body: string, req: IncomingMessage): Promise<[number, object]> => {
    const decision = decideTokenRequest(
      policy,
      readTokenRequest(req.headers['content-type'], body, req.headers.authorization),
    );
    if (decision.kind === 'error') {
      return [decision.status, { error: decision.error, error_description: decision.description }];
    }
    const nowSec = scheduler.now() / 1000;
    const token = await new SignJWT({ azp: decision.clientId, gty: 'client-credentials' })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
      .setIssuer(issuer)
      .setSubject(`${decision.clientId}@clients`)
      .setAudience(decision.audience)
      .setIssuedAt(Math.floor(nowSec))
      .setExpirationTime(Math.ceil(nowSec) + ttl)
      .setJti(randomUUID())
      .sign(privateKey);
    issued += 1;
    return [200, { access_token: token, token_type: 'Bearer', expires_in: ttl }];
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://issuer').pathname;
    if (path === '/.well-known/openid-configuration' || path === '/.well-known/oauth-authorization-server') {
      return void answer(res, req.method === 'GET' ? 200 : 405, discovery);
    }
    if (path === '/.well-known/jwks.json') return void answer(res, req.method === 'GET' ? 200 : 405, jwks);
    if (path !== '/oauth/token') return void answer(res, 404, { error: 'not_found' });
    if (req.method !== 'POST') return void answer(res, 405, { error: 'invalid_request' });
    readBody(req)
      .then((body) =>
        body === undefined
          ? answer(res, 413, { error: 'invalid_request', error_description: 'body too large' })
          : grant(body, req).then(([status, json]) => answer(res, status, json)),
      )
      .catch(() => res.destroy());
  });

  const verify: TokenVerifier = async (token) => {
    if (typeof token !== 'string' || token.length === 0) return false;
    try {
      await jwtVerify(token, publicKey, {
        issuer,
        audience,
        algorithms: ['ES256'],
        requiredClaims: ['exp'],
        currentDate: new Date(scheduler.now()),
      });
      return true;
    } catch (error) {
      if (error instanceof errors.JOSEError) return false;
      throw error;
    }
  };
  let closing: Promise<void> | undefined;
  return {
    issuer,
    tokenUrl: discovery.token_endpoint,
    jwksUrl: discovery.jwks_uri,
    port: bound,
    audience,
    audiences,
    tokenTtlSec: ttl,
    get tokensIssued() {
      return issued;
    },
    verify,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

/**
 * `auth` extended to accept the issuer's tokens too: fixed `tokens` and an own `verify` keep
 * working; a token is accepted when the issuer or the own `verify` accepts it.
 */
export function withIssuerAuth(auth: AthenaServerAuth | undefined, issued: TokenVerifier): AthenaServerAuth {
  const own = auth?.verify;
  return {
    ...(auth?.tokens === undefined ? {} : { tokens: auth.tokens }),
    verify: async (token, type) => (await issued(token)) || (own !== undefined && (await own(token, type))),
  };
}

function checkClient(client: OAuthClient): OAuthClient {
  if (typeof client !== 'object' || client === null)
    throw new TypeError('a client must be { id, secret } or ID:SECRET');
  assertString('client id', client.id);
  if (typeof client.secret !== 'string' || client.secret.length === 0) {
    throw new TypeError('a client secret must be a non-empty string');
  }
  return client;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The body as text, or `undefined` when it is larger than {@link MAX_BODY_BYTES}. */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.once('end', () =>
      resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8')),
    );
    req.once('error', reject);
  });
}

function answer(res: ServerResponse, status: number, json: object): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    pragma: 'no-cache',
  });
  res.end(JSON.stringify(json));
}
