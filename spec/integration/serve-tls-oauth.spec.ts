/**
 * `athena-rx serve --tls-self-signed DIR --oauth-client ID:SECRET` as a foreign client sees it: a
 * client built from `@grpc/grpc-js`, `@grpc/proto-loader` and the files in proto/ only (nothing of
 * athena-rx), trusting DIR/ca.pem, with tokens from the built-in issuer fetched over HTTPS.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildServer, type ChildServer } from '../support/child-server.js';
import { postForm, send } from '../support/https.js';

const SECRET = 'serve-spec-secret-9d2e';
const TTL_SEC = 5;
const protoDir = new URL('../../proto', import.meta.url).pathname;

interface Output {
  correlation_id: string;
  classifications: { label: string; weight: number }[];
  error: { code: string; message: string } | null;
}
type Callback<T> = (error: grpc.ServiceError | null, value?: T) => void;
interface ClassifierClient extends grpc.Client {
  ListDeployments(
    request: object,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    cb: Callback<object>,
  ): void;
  ClassifySingle(
    request: object,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    cb: Callback<Output>,
  ): void;
  Classify(
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
  ): grpc.ClientDuplexStream<object, { outputs: Output[] }>;
}

let dir: string;
let server: ChildServer;
let ca: string;
let issuer: string;
let tokenUrl: string;
const clients: grpc.Client[] = [];

function client(token: () => Promise<string>): ClassifierClient {
  const definition = protoLoader.loadSync('athena/athena.proto', {
    includeDirs: [protoDir],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const athena = (grpc.loadPackageDefinition(definition) as Record<string, Record<string, unknown>>)[
    'athena'
  ];
  const Client = athena?.['ClassifierService'] as new (
    target: string,
    credentials: grpc.ChannelCredentials,
  ) => ClassifierClient;
  const perCall = grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    token().then(
      (value) => {
        const metadata = new grpc.Metadata();
        metadata.add('authorization', `bearer ${value}`);
        callback(null, metadata);
      },
      (error: Error) => callback(error),
    );
  });
  const made = new Client(
    `localhost:${server.port}`,
    grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(Buffer.from(ca)), perCall),
  );
  clients.push(made);
  return made;
}

/** A fresh token from the built-in issuer, as the Python client asks for it (JSON body). */
async function freshToken(audience = 'crisp-athena-live'): Promise<string> {
  const answer = await send(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_id: 'ci',
      client_secret: SECRET,
      audience,
      grant_type: 'client_credentials',
    }),
    ca,
  });
  expect(answer.status).toBe(200);
  return answer.json()['access_token'] as string;
}

const deadline = (): grpc.CallOptions => ({ deadline: Date.now() + 30_000 });

function input(id: string): object {
  return {
    affiliate: 'acme',
    correlation_id: id,
    encoding: 'REQUEST_ENCODING_UNCOMPRESSED',
    format: 'IMAGE_FORMAT_RAW_UINT8_BGR',
    data: Buffer.alloc(448 * 448 * 3, 40 + id.length),
  };
}

function listDeployments(athena: ClassifierClient): Promise<object> {
  return new Promise((resolve, reject) =>
    athena.ListDeployments({}, new grpc.Metadata(), deadline(), (error, value) =>
      error ? reject(error) : resolve(value as object),
    ),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'athena-serve-tls-'));
  server = await startChildServer({
    args: [
      '--tls-self-signed',
      dir,
      '--oauth-client',
      `ci:${SECRET}`,
      '--oauth-port',
      '0',
      '--token-ttl',
      String(TTL_SEC),
    ],
    startTimeoutMs: 60_000,
  });
  ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
  const match = /OAuth issuer (\S+)/.exec(server.output());
  issuer = match?.[1] ?? '';
  const discovery = (await send(`${issuer}.well-known/openid-configuration`, { ca })).json();
  tokenUrl = discovery['token_endpoint'] as string;
}, 90_000);

afterAll(async () => {
  for (const made of clients) made.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('serve with TLS and the built-in issuer, from a plain grpc-js client', () => {
  it('starts with TLS, prints the issuer and the CA, and never prints the secret', () => {
    expect(server.output()).toMatch(/listening on 127\.0\.0\.1:\d+ \(TLS, bearer tokens required/);
    expect(server.output()).toContain(join(dir, 'ca.pem'));
    expect(server.output()).not.toContain(SECRET);
    expect(issuer).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    expect(tokenUrl).toBe(`${issuer}oauth/token`);
  });

  it('lists deployments, classifies one image and streams ten', async () => {
    const athena = client(() => freshToken());
    await expect(listDeployments(athena)).resolves.toMatchObject({ deployments: expect.any(Array) });

    const single = await new Promise<Output>((resolve, reject) =>
      athena.ClassifySingle(input('single-1'), new grpc.Metadata(), deadline(), (error, value) =>
        error ? reject(error) : resolve(value as Output),
      ),
    );
    expect(single.correlation_id).toBe('single-1');
    expect(single.error).toBeNull();
    expect(single.classifications.length).toBeGreaterThan(0);

    const call = athena.Classify(new grpc.Metadata(), deadline());
    const ids = Array.from({ length: 10 }, (_, i) => `stream-${i}`);
    const outputs: Output[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (response: { outputs: Output[] }) => {
        outputs.push(...response.outputs);
        if (outputs.length >= ids.length) call.end();
      });
      call.once('error', reject);
      call.once('end', resolve);
    });
    for (const id of ids) call.write({ deployment_id: 'serve-tls-spec', inputs: [input(id)] });
    await done;
    expect(outputs.map((o) => o.correlation_id).sort()).toEqual([...ids].sort());
    expect(outputs.every((o) => o.error === null && o.classifications.length > 0)).toBe(true);
  }, 60_000);

  it('refuses wrong-audience, foreign, malformed and expired tokens with UNAUTHENTICATED', async () => {
    const wrongAudience = await freshToken('crisp-athena-qa');
    expect(decodeJwt(wrongAudience).aud).toBe('crisp-athena-qa');
    const { privateKey } = await generateKeyPair('ES256');
    const foreign = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: decodeJwt(wrongAudience).jti ?? 'k' })
      .setIssuer(issuer)
      .setAudience('crisp-athena-live')
      .setSubject('ci@clients')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    const expired = await freshToken();
    for (const token of [wrongAudience, foreign, 'not-a-jwt']) {
      await expect(listDeployments(client(() => Promise.resolve(token)))).rejects.toMatchObject({
        code: grpc.status.UNAUTHENTICATED,
      });
    }
    // The same token works until it expires and is refused after.
    const athena = client(() => Promise.resolve(expired));
    await expect(listDeployments(athena)).resolves.toBeDefined();
    const waitMs = (decodeJwt(expired).exp as number) * 1000 - Date.now() + 1_100;
    expect(waitMs).toBeLessThanOrEqual((TTL_SEC + 2) * 1000);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, waitMs)));
    await expect(listDeployments(athena)).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
  }, 60_000);

  it('answers a wrong client secret with invalid_client over HTTPS', async () => {
    const answer = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials', client_id: 'ci', client_secret: 'wrong' },
      ca,
    );
    expect(answer.status).toBe(401);
    expect(answer.json()['error']).toBe('invalid_client');
  });
});
