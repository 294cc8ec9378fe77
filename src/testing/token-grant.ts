/**
 * The decisions of the built-in OAuth 2 issuer's token endpoint, as pure functions: reading a
 * client-credentials request (form or JSON body, client secret in the body or in HTTP Basic) and
 * deciding to grant it or which OAuth error to answer. No I/O, no clock, no signing here; the issuer
 * (issuer.ts) runs them. Error descriptions never quote a secret.
 */
import { timingSafeEqual } from 'node:crypto';

/** An OAuth client the issuer knows. */
export interface OAuthClient {
  readonly id: string;
  readonly secret: string;
}

/** The parameters of a token request, whatever the body's encoding. */
export interface TokenRequest {
  readonly grantType?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly audience?: string;
  /** Whether the body could not be read (bad JSON, an unsupported media type). */
  readonly malformed?: boolean;
}

/** What the endpoint answers: a grant to sign, or an OAuth error (RFC 6749 section 5.2). */
export type TokenDecision =
  | { readonly kind: 'grant'; readonly clientId: string; readonly audience: string }
  | {
      readonly kind: 'error';
      readonly status: number;
      readonly error: string;
      readonly description: string;
    };

/** What the endpoint checks against. */
export interface GrantPolicy {
  readonly clients: ReadonlyMap<string, string>;
  /** Audiences tokens may be issued for. */
  readonly audiences: readonly string[];
  /** Audience of a request that names none. */
  readonly defaultAudience: string;
}

/**
 * Reads a token request from its body and headers: `application/x-www-form-urlencoded` or
 * `application/json` bodies; client credentials in the body (`client_secret_post`) or in an
 * `Authorization: Basic` header (`client_secret_basic`, which wins).
 */
export function readTokenRequest(
  contentType: string | undefined,
  body: string,
  authorization: string | undefined,
): TokenRequest {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  let fields: Record<string, unknown>;
  if (type === 'application/json') {
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { malformed: true };
      fields = parsed as Record<string, unknown>;
    } catch {
      return { malformed: true };
    }
  } else if (type === 'application/x-www-form-urlencoded' || type === '') {
    fields = Object.fromEntries(new URLSearchParams(body));
  } else {
    return { malformed: true };
  }
  const text = (name: string): string | undefined =>
    typeof fields[name] === 'string' ? (fields[name] as string) : undefined;
  const basic = readBasic(authorization);
  return {
    grantType: text('grant_type'),
    clientId: basic?.id ?? text('client_id'),
    clientSecret: basic?.secret ?? text('client_secret'),
    audience: text('audience'),
  };
}

/** Decides a token request: which checks fail, in the order Auth0 runs them, or the grant. */
export function decideTokenRequest(policy: GrantPolicy, request: TokenRequest): TokenDecision {
  const refuse = (status: number, error: string, description: string): TokenDecision => ({
    kind: 'error',
    status,
    error,
    description,
  });
  if (request.malformed === true) {
    return refuse(400, 'invalid_request', 'the body must be form-encoded or a JSON object');
  }
  if (request.grantType !== 'client_credentials') {
    return refuse(400, 'unsupported_grant_type', 'only the client_credentials grant is supported');
  }
  const expected = request.clientId === undefined ? undefined : policy.clients.get(request.clientId);
  if (expected === undefined || !sameSecret(expected, request.clientSecret)) {
    return refuse(401, 'invalid_client', 'unknown client or wrong client secret');
  }
  const audience =
    request.audience === undefined || request.audience === '' ? policy.defaultAudience : request.audience;
  if (!policy.audiences.includes(audience)) {
    return refuse(403, 'access_denied', `Service not found: ${audience}`);
  }
  return { kind: 'grant', clientId: request.clientId as string, audience };
}

/** Parses `ID:SECRET` (the secret may contain colons); throws a TypeError that never quotes the secret. */
export function parseOAuthClient(value: string): OAuthClient {
  const colon = typeof value === 'string' ? value.indexOf(':') : -1;
  if (colon <= 0 || colon === value.length - 1) {
    throw new TypeError('an OAuth client must be given as ID:SECRET, both non-empty');
  }
  return { id: value.slice(0, colon), secret: value.slice(colon + 1) };
}

function readBasic(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^\s*basic\s+(\S+)\s*$/i.exec(header ?? '');
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  // RFC 6749 section 2.3.1: both parts are form-urlencoded before the Basic encoding.
  const unescape = (part: string): string => decodeURIComponent(part.replace(/\+/g, ' '));
  try {
    return { id: unescape(decoded.slice(0, colon)), secret: unescape(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

function sameSecret(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
