import { X509Certificate } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTokenIssuer, type TokenIssuer } from '../../src/testing/issuer.js';
import { createSelfSignedTls } from '../../src/testing/self-signed.js';
import { postForm, send } from '../support/https.js';

const SECRET = 'issuer-spec-secret-5f1c';
const clock = { ms: Date.now() };
const scheduler: SchedulerLike = {
  now: () => clock.ms,
  schedule: asyncScheduler.schedule.bind(asyncScheduler),
};

let issuer: TokenIssuer;
let other: TokenIssuer;

beforeAll(async () => {
  issuer = await startTokenIssuer({
    clients: [`ci:${SECRET}`, { id: 'second', secret: 'x:y' }],
    tokenTtlSec: 30,
    scheduler,
  });
  other = await startTokenIssuer({ clients: [`ci:${SECRET}`] });
});
afterAll(async () => {
  await issuer?.close();
  await other?.close();
});

const grant = (fields: Record<string, string>) =>
  postForm(issuer.tokenUrl, {
    grant_type: 'client_credentials',
    client_id: 'ci',
    client_secret: SECRET,
    ...fields,
  });

describe('startTokenIssuer', () => {
  it('publishes discovery and keys that verify the tokens it issues for a form request', async () => {
    const discovery = (await send(`${issuer.issuer}.well-known/openid-configuration`)).json();
    expect(discovery).toMatchObject({
      issuer: issuer.issuer,
      token_endpoint: issuer.tokenUrl,
      jwks_uri: issuer.jwksUrl,
      grant_types_supported: ['client_credentials'],
    });
    expect(issuer.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const jwks = (await send(issuer.jwksUrl)).json() as unknown as JSONWebKeySet;
    const before = issuer.tokensIssued;
    const answer = await grant({});
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    const body = answer.json();
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 30 });
    const token = body['access_token'] as string;
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: issuer.issuer,
      audience: 'crisp-athena-live',
      currentDate: new Date(clock.ms),
    });
    expect(payload.sub).toBe('ci@clients');
    // The token lives at least as long as expires_in says.
    expect((payload.exp as number) * 1000).toBeGreaterThanOrEqual(clock.ms + 30_000);
    expect(decodeProtectedHeader(token).alg).toBe('ES256');
    expect(issuer.tokensIssued).toBe(before + 1);
    await expect(issuer.verify(token)).resolves.toBe(true);
  });

  it('takes JSON bodies and HTTP Basic client authentication', async () => {
    const json = await send(issuer.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: 'ci',
        client_secret: SECRET,
        audience: 'crisp-athena-live',
      }),
    });
    expect(json.status).toBe(200);
    const basic = await send(issuer.tokenUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`second:${encodeURIComponent('x:y')}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    });
    expect(basic.status).toBe(200);
    expect(decodeJwt(basic.json()['access_token'] as string).sub).toBe('second@clients');
    await expect(issuer.verify(json.json()['access_token'] as string)).resolves.toBe(true);
  });

  it('issues for another served audience a token the server side refuses', async () => {
    const answer = await grant({ audience: 'crisp-athena-qa' });
    expect(answer.status).toBe(200);
    const token = answer.json()['access_token'] as string;
    expect(decodeJwt(token).aud).toBe('crisp-athena-qa');
    await expect(issuer.verify(token)).resolves.toBe(false);
  });

  it('refuses expired, foreign, tampered and malformed tokens', async () => {
    const token = (await grant({})).json()['access_token'] as string;
    const foreign = (
      await postForm(other.tokenUrl, {
        grant_type: 'client_credentials',
        client_id: 'ci',
        client_secret: SECRET,
      })
    ).json()['access_token'] as string;
    expect(decodeJwt(foreign).aud).toBe('crisp-athena-live');
    await expect(issuer.verify(foreign)).resolves.toBe(false);
    const [head, , signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...decodeJwt(token), sub: 'admin@clients' })).toString(
      'base64url',
    );
    await expect(issuer.verify(`${head}.${forged}.${signature}`)).resolves.toBe(false);
    await expect(issuer.verify('not-a-jwt')).resolves.toBe(false);
    await expect(issuer.verify(token)).resolves.toBe(true);
    const issuedAt = clock.ms;
    try {
      clock.ms = issuedAt + 32_000;
      await expect(issuer.verify(token)).resolves.toBe(false);
    } finally {
      clock.ms = issuedAt;
    }
  });

  it.each([
    ['a wrong secret', { client_secret: 'wrong-secret' }, 401, 'invalid_client'],
    ['an unknown client', { client_id: 'nobody' }, 401, 'invalid_client'],
    ['another grant', { grant_type: 'password' }, 400, 'unsupported_grant_type'],
    ['an audience not served', { audience: 'crisp-athena-elsewhere' }, 403, 'access_denied'],
  ])('answers %s with an OAuth error naming no secret', async (_case, fields, status, error) => {
    const before = issuer.tokensIssued;
    const answer = await grant(fields);
    expect(answer.status).toBe(status);
    expect(answer.json()['error']).toBe(error);
    expect(answer.text).not.toContain(SECRET);
    expect(answer.text).not.toContain('wrong-secret');
    expect(issuer.tokensIssued).toBe(before);
  });

  it('answers a malformed body, a GET of the token endpoint and unknown paths', async () => {
    const bad = await send(issuer.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    expect([bad.status, bad.json()['error']]).toEqual([400, 'invalid_request']);
    expect((await send(issuer.tokenUrl)).status).toBe(405);
    expect((await send(`${issuer.issuer}elsewhere`)).status).toBe(404);
  });

  it('validates its options before binding, naming no secret', async () => {
    await expect(startTokenIssuer({ clients: [] })).rejects.toThrow(RangeError);
    const error: unknown = await startTokenIssuer({ clients: ['no-colon-secret'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(String(error)).not.toContain('no-colon-secret');
    await expect(startTokenIssuer({ clients: ['a:b'], audience: 'x', audiences: ['y'] })).rejects.toThrow(
      RangeError,
    );
    await expect(startTokenIssuer({ clients: ['a:b'], tokenTtlSec: 0 })).rejects.toThrow(RangeError);
  });

  it('serves HTTPS with a certificate that a client trusting the CA accepts', async () => {
    const tls = await createSelfSignedTls();
    const cert = new X509Certificate(tls.cert);
    expect(cert.verify(new X509Certificate(tls.ca).publicKey)).toBe(true);
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    const secure = await startTokenIssuer({ clients: ['ci:s'], tls: { key: tls.key, cert: tls.cert } });
    try {
      expect(secure.issuer).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
      const answer = await postForm(
        secure.tokenUrl,
        { grant_type: 'client_credentials', client_id: 'ci', client_secret: 's' },
        tls.ca,
      );
      expect(answer.status).toBe(200);
      await expect(secure.verify(answer.json()['access_token'] as string)).resolves.toBe(true);
      // Without the CA the certificate is refused.
      await expect(send(secure.jwksUrl)).rejects.toThrow(/certificate/i);
    } finally {
      await secure.close();
    }
  });
});
