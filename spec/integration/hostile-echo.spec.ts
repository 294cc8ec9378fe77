/**
 * A hostile Athena service that echoes the caller's `authorization` header (plain, upper-cased,
 * URL-encoded, base64) into everything it can: per-output error messages and details, a global
 * error, and the final status details of `Classify` and `ClassifySingle`, some of it 10 MB long. The
 * real client, the real operators and real grpc-js must keep the token out of every outcome, error
 * and event, and cut the long texts to about 1 KB.
 */
import { randomUUID } from 'node:crypto';
import { Metadata, Server, ServerCredentials, status, type ServerErrorResponse } from '@grpc/grpc-js';
import { firstValueFrom, from } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import { type ClassifierServiceServer, ClassifierServiceService } from '../../src/generated/athena/athena.js';
import {
  ClassificationInput,
  ClassificationOutput,
  ClassifyResponse,
  ErrorCode,
  type ClassifyRequest,
} from '../../src/generated/athena/models.js';
import { classify } from '../../src/operators/classify.js';
import { classifyEach } from '../../src/operators/classifyEach.js';
import { AthenaClient } from '../../src/transport/AthenaClient.js';
import type { ClassifyEvent } from '../../src/transport/contracts.js';
import { staticToken } from '../../src/transport/staticToken.js';
import { inBatches, makeItems, run } from './classify.helpers.js';

const TOKEN = `eyJhbGciOiJIUzI1NiJ9.${randomUUID()}/a+b=c.Zz9-${randomUUID().slice(0, 8)}`;
const TEN_MB = 10 * 1024 * 1024;
const MARKER = /… \[\d+ more characters cut\]$/;

/** Everything the server does with the `authorization` value it was sent. */
function echoes(auth: string): string {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  return [
    `authorization: ${auth}`,
    auth.toUpperCase(),
    encodeURIComponent(auth),
    new URLSearchParams({ auth }).toString(),
    b64(auth),
    b64(`x${auth}`),
    b64(`xy${auth}`),
    Buffer.from(auth).toString('base64url'),
  ].join(' | ');
}

function failStatus(code: status, details: string): ServerErrorResponse {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

async function startHostileServer(): Promise<{ address: string; stop: () => Promise<void> }> {
  const server = new Server();
  const authOf = (metadata: Metadata) => String(metadata.get('authorization')[0] ?? '');
  const implementation: ClassifierServiceServer = {
    listDeployments: (_call, callback) => callback(null, { deployments: [] }),
    classifySingle: (call, callback) => {
      const echo = echoes(authOf(call.metadata));
      const id = call.request.correlationId;
      if (id.endsWith('-0')) {
        const error = {
          code: ErrorCode.ERROR_CODE_MODEL_ERROR,
          message: `${echo}${'m'.repeat(TEN_MB)}`,
          details: echo,
        };
        callback(null, ClassificationOutput.create({ correlationId: id, error }));
      } else {
        callback(failStatus(status.INVALID_ARGUMENT, `${echo} ${'s'.repeat(4000)}`));
      }
    },
    classify: (call) => {
      const echo = echoes(authOf(call.metadata));
      call.on('data', (request: ClassifyRequest) => {
        for (const input of request.inputs) {
          const id = input.correlationId;
          if (id.endsWith('-0')) {
            const error = {
              code: ErrorCode.ERROR_CODE_MODEL_ERROR,
              message: echo,
              details: `${echo}${'d'.repeat(TEN_MB)}`,
            };
            call.write(ClassifyResponse.create({ outputs: [{ correlationId: id, error }] }));
          } else if (id.endsWith('-1')) {
            const globalError = { code: ErrorCode.ERROR_CODE_UNSPECIFIED, message: echo, details: echo };
            call.write(ClassifyResponse.create({ globalError }));
          } else {
            // leave it unanswered and break the stream: the client reconnects, then gives up
            setTimeout(
              () => call.emit('error', failStatus(status.UNAVAILABLE, `${echo} ${'u'.repeat(4000)}`)),
              30,
            );
          }
        }
      });
      call.on('end', () => call.end());
    },
  };
  server.addService(ClassifierServiceService, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => server.forceShutdown(), 500).unref();
      }),
  };
}

/** Every string reachable from `value`: fields, error messages, details, stacks and causes. */
function texts(value: unknown, out: string[] = [], seen = new Set<unknown>(), depth = 0): string[] {
  if (depth > 12 || value === null || value === undefined || seen.has(value)) return out;
  if (typeof value === 'string') {
    out.push(value);
    return out;
  }
  if (typeof value !== 'object') return out;
  seen.add(value);
  if (value instanceof Error) {
    texts(value.message, out, seen, depth + 1);
    texts(value.stack, out, seen, depth + 1);
    texts(value.cause, out, seen, depth + 1);
    if (value instanceof AggregateError) texts(value.errors, out, seen, depth + 1);
  }
  if (value instanceof Uint8Array) return out;
  for (const key of Object.keys(value)) texts((value as Record<string, unknown>)[key], out, seen, depth + 1);
  return out;
}

/** Fails when any text holds the token in a recognisable form. */
function expectNoToken(found: readonly string[]): void {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const needles = [
    TOKEN,
    encodeURIComponent(TOKEN),
    b64(TOKEN).slice(0, 24),
    b64(`Bearer ${TOKEN}`).slice(12, 40),
    Buffer.from(TOKEN).toString('base64url').slice(0, 24),
  ].map((n) => n.toLowerCase());
  // any 12 consecutive characters of the token count as a leak
  const windows = Array.from({ length: TOKEN.length - 11 }, (_, i) => TOKEN.slice(i, i + 12).toLowerCase());
  for (const text of found) {
    const lower = text.toLowerCase();
    for (const needle of [...needles, ...windows])
      expect(lower.includes(needle), `leak of ${needle}`).toBe(false);
  }
}

let hostile: { address: string; stop: () => Promise<void> };
let client: AthenaClient;

beforeAll(async () => {
  hostile = await startHostileServer();
  client = new AthenaClient({ address: hostile.address, insecure: true, credentials: staticToken(TOKEN) });
});
afterAll(async () => {
  client.close();
  await hostile.stop();
});

describe('a service echoing the authorization header', () => {
  it('classify: no outcome, run error or event carries the token; long texts are cut to about 1 KB', async () => {
    const { items } = makeItems('echo', 3);
    const events: ClassifyEvent[] = [];
    const result = await run(
      from(inBatches(items, 1)),
      classify(client, {
        deploymentId: 'dep-echo',
        affiliate: 'a',
        keepaliveMs: 0,
        reconnect: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 5 },
        events: { next: (event) => events.push(event) },
      }),
      events,
    );

    // the hostile texts did arrive, everywhere they were aimed
    const byRef = new Map(result.outcomes.map((o) => [o.ref, o]));
    const failure = (ref: string) => {
      const outcome = byRef.get(ref);
      if (outcome === undefined || outcome.ok) throw new Error(`${ref} should have failed`);
      return outcome;
    };
    expect(failure('echo/0.png').error.code).toBe('MODEL_ERROR');
    expect(failure('echo/1.png').error.code).toBe('GLOBAL_ERROR');
    expect(failure('echo/2.png').stage).toBe('transport');
    expect(result.error).toBeInstanceOf(AthenaError);
    expect(result.error?.code).toBe('UNAVAILABLE');
    expect(events.some((e) => e.type === 'reconnect')).toBe(true);
    expect(events.some((e) => e.type === 'global-error')).toBe(true);
    for (const text of [
      failure('echo/0.png').error.message,
      failure('echo/1.png').error.message,
      result.error?.details ?? '',
    ]) {
      expect(text).toContain('authorization: Bearer <redacted>');
    }

    // ... and none of them kept the token
    expectNoToken(texts(result.outcomes));
    expectNoToken(texts(result.error));
    expectNoToken(texts(events));
    // the grpc-js error (its message and metadata unscrubbed) is kept nowhere in the run error's chain
    const cause = result.error?.cause;
    expect(cause === undefined || (cause instanceof AthenaError && cause.cause === undefined)).toBe(true);

    // 10 MB of details, and 4 KB of status details, came down to about 1 KB with the marker
    const long = failure('echo/0.png').error.details ?? '';
    expect(long).toMatch(MARKER);
    expect(long.length).toBeLessThan(1100);
    expect(result.error?.details).toMatch(MARKER);
    expect(result.error?.message.length).toBeLessThan(1200);
  });

  it('ClassifySingle: the output error and the failed call carry no token and are cut', async () => {
    const { items } = makeItems('single', 2);
    const result = await run(from(items), classifyEach(client, { affiliate: 'a', concurrency: 1 }));
    expect(result.error).toBeUndefined();
    const [output, call] = ['single/0.png', 'single/1.png'].map((ref) => {
      const outcome = result.outcomes.find((o) => o.ref === ref);
      if (outcome === undefined || outcome.ok) throw new Error(`${ref} should have failed`);
      return outcome;
    }) as [
      Extract<(typeof result.outcomes)[number], { ok: false }>,
      Extract<(typeof result.outcomes)[number], { ok: false }>,
    ];
    expect(output.error.code).toBe('MODEL_ERROR');
    expect(output.error.message).toMatch(MARKER);
    expect(output.error.message.length).toBeLessThan(1100);
    expect(output.error.details).toContain('<redacted>');
    expect(call.stage).toBe('transport');
    expect(call.error.code).toBe('INVALID_ARGUMENT');
    expect(call.error.details).toContain('authorization: Bearer <redacted>');
    expect(call.error.details).toMatch(MARKER);
    expect(call.error.cause).toBeUndefined();
    expectNoToken(texts(result.outcomes));

    const direct = await firstValueFrom(
      client.classifySingle(ClassificationInput.create({ affiliate: 'a', correlationId: 'direct-9' })),
    ).catch((error: unknown) => error);
    expect(direct).toBeInstanceOf(AthenaError);
    expect((direct as AthenaError).code).toBe('INVALID_ARGUMENT');
    expectNoToken(texts(direct));
  });
});
