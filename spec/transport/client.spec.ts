import {
  Subject,
  type Subscription,
  defer,
  filter,
  firstValueFrom,
  lastValueFrom,
  mergeMap,
  of,
  range,
  take,
  toArray,
} from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import {
  ClassificationInput,
  type ClassifyResponse,
  ClassifyRequest,
  ImageFormat,
} from '../../src/generated/athena/models.js';
import { type AthenaServer, startAthenaServer } from '../../src/testing/server.js';
import { AthenaClient } from '../../src/transport/AthenaClient.js';
import { type TokenSource } from '../../src/transport/contracts.js';
import { staticToken } from '../../src/transport/staticToken.js';
import { rotatingSource } from './client-fixtures.js';

const RAW_BYTES = 448 * 448 * 3;
let server: AthenaServer;
let client: AthenaClient;
let seq = 0;

const raw = (correlationId: string, fill = 7): ClassificationInput =>
  ClassificationInput.create({
    affiliate: 'acme',
    correlationId,
    format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR,
    data: Buffer.alloc(RAW_BYTES, fill),
  });
const ids = (responses: ClassifyResponse[]) =>
  responses.flatMap((r) => r.outputs.map((o) => o.correlationId));
const deployment = () => `spec-${process.pid}-${++seq}`;

/** Polls until `check` holds (the server learns of cancels asynchronously). */
async function eventually(check: () => boolean, ms = 2_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

beforeAll(async () => {
  server = await startAthenaServer({ affiliates: ['acme'], seed: 3 });
});
afterAll(() => server.close());
afterEach(() => {
  client?.close();
  server.clearFaults();
});
const connect = () =>
  (client = new AthenaClient({ address: server.address, insecure: true, connectTimeoutMs: 2_000 }));

describe('AthenaClient against the embedded server', () => {
  it('classifySingle: classifies a raw 448x448 BGR image', async () => {
    connect();
    const output = await firstValueFrom(client.classifySingle(raw('single-1', 200)));
    expect(output.correlationId).toBe('single-1');
    expect(output.error).toBeUndefined();
    const labels = output.classifications.map((c) => c.label);
    expect(labels).toContain('UnknownCSAM-PCSAM');
    expect(labels).toContain('UnknownCSAM-Entropy');
  });

  it('classifySingle: the service errors of an input come back in the output', async () => {
    connect();
    const output = await firstValueFrom(
      client.classifySingle({ ...raw('single-2'), data: Buffer.alloc(10) }, { deadlineMs: 5_000 }),
    );
    expect(output.correlationId).toBe('single-2');
    expect(output.error).toBeDefined();
  });

  it('classifyStream: a batch round trip, completing when the server ends the call', async () => {
    connect();
    const id = deployment();
    const batch = Array.from({ length: 10 }, (_, i) => raw(`${id}-${i}`, i * 20));
    const responses = await lastValueFrom(
      client.classifyStream(id, of(ClassifyRequest.create({ inputs: batch }))).pipe(toArray()),
    );
    expect(ids(responses).sort()).toEqual(batch.map((input) => input.correlationId).sort());
    expect(responses.flatMap((r) => r.outputs).every((o) => o.error === undefined)).toBe(true);
    expect(server.counters.streamsOpened).toBeGreaterThanOrEqual(1);
  });

  it('listDeployments: lists the deployments that took work', async () => {
    connect();
    const id = deployment();
    await lastValueFrom(client.classifyStream(id, of(ClassifyRequest.create({ inputs: [raw(`${id}-a`)] }))));
    const deployments = await firstValueFrom(client.listDeployments());
    expect(deployments.map((d) => d.deploymentId)).toContain(id);
    expect(deployments.every((d) => Number.isInteger(d.backlog) && d.backlog >= 0)).toBe(true);
  });

  it('classifyStream: writes many large requests as the call drains, and all are answered', async () => {
    connect();
    server.resetCounters();
    const id = deployment();
    const count = 120;
    const requests = range(0, count).pipe(
      mergeMap((i) => of(ClassifyRequest.create({ deploymentId: id, inputs: [raw(`${id}-${i}`, i % 251)] }))),
    );
    const answered = ids(await lastValueFrom(client.classifyStream(id, requests).pipe(toArray())));
    expect(answered).toHaveLength(count);
    expect(new Set(answered).size).toBe(count);
    const counters = server.counters;
    expect(counters.streamsOpened).toBe(1);
    expect(counters.inputs).toBe(count);
    expect(counters.inputBytes).toBe(count * RAW_BYTES);
  });

  it('classifyStream: unsubscribing cancels the call, the server sees it, nothing arrives after', async () => {
    connect();
    const id = deployment();
    const requests = new Subject<ClassifyRequest>();
    const seen: ClassifyResponse[] = [];
    let subscription: Subscription | undefined;
    const first = new Promise<void>((resolve) => {
      subscription = client.classifyStream(id, requests).subscribe({
        next: (r) => {
          seen.push(r);
          resolve();
        },
      });
    });
    requests.next(ClassifyRequest.create({ inputs: [raw(`${id}-1`)] }));
    await first;
    expect(server.counters.streamsActive).toBe(1);
    server.setFaults({ latencyMs: 50 });
    requests.next(ClassifyRequest.create({ inputs: [raw(`${id}-2`)] }));
    subscription?.unsubscribe();
    expect(requests.observed).toBe(false);
    await eventually(() => server.counters.streamsActive === 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(ids(seen)).toEqual([`${id}-1`]);
  });

  it('classifyStream: a reset stream errors typed, with the status and its details', async () => {
    connect();
    server.setFaults({ resetAfterOutputs: 1 });
    const id = deployment();
    const seen: string[] = [];
    const requests = of(ClassifyRequest.create({ inputs: [raw(`${id}-1`), raw(`${id}-2`)] }));
    const error = await lastValueFrom(client.classifyStream(id, requests)).then(
      (r) => seen.push(...r.outputs.map((o) => o.correlationId)),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AthenaError);
    expect(error).toMatchObject({ code: 'INTERNAL', status: 13 });
    expect((error as AthenaError).details).toContain('RST_STREAM');
  });

  it('classifyStream: a requests error cancels the call and errors with it', async () => {
    connect();
    const id = deployment();
    const requests = new Subject<ClassifyRequest>();
    const outcome = lastValueFrom(client.classifyStream(id, requests).pipe(take(2))).catch((e: unknown) => e);
    requests.next(ClassifyRequest.create({ inputs: [raw(`${id}-1`)] }));
    await eventually(() => server.counters.streamsActive === 1);
    const cause = new Error('source broke');
    requests.error(cause);
    const error = await outcome;
    expect(error).toBeInstanceOf(AthenaError);
    expect((error as AthenaError).message).toBe('source broke');
    expect((error as AthenaError).cause).toBe(cause);
    await eventually(() => server.counters.streamsActive === 0);
  });

  it('classifyStream: refuses a request for another deployment and an invalid id', async () => {
    connect();
    const id = deployment();
    expect(() => client.classifyStream('', of())).toThrow(RangeError);
    const other = ClassifyRequest.create({ deploymentId: 'elsewhere', inputs: [raw(`${id}-1`)] });
    await expect(lastValueFrom(client.classifyStream(id, of(other)))).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });

  it('close(): an open stream errors with CLOSED; later calls fail with CLOSED', async () => {
    connect();
    const id = deployment();
    const requests = new Subject<ClassifyRequest>();
    const outcome = lastValueFrom(client.classifyStream(id, requests)).catch((e: unknown) => e);
    requests.next(ClassifyRequest.create({ inputs: [raw(`${id}-1`)] }));
    await eventually(() => server.counters.streamsActive === 1);
    client.close();
    expect(await outcome).toMatchObject({ code: 'CLOSED' });
    expect(requests.observed).toBe(false);
    expect(client.isClosed).toBe(true);
    await expect(firstValueFrom(client.listDeployments())).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(lastValueFrom(client.classifyStream(id, of()))).rejects.toMatchObject({ code: 'CLOSED' });
    await eventually(() => server.counters.streamsActive === 0);
  });

  it('close(): a unary call in flight errors with CLOSED', async () => {
    connect();
    server.setFaults({ latencyMs: 2_000 });
    const outcome = firstValueFrom(client.classifySingle(raw('slow'))).catch((e: unknown) => e);
    await eventually(() => server.counters.classifySingleCalls > 0);
    client.close();
    expect(await outcome).toMatchObject({ code: 'CLOSED' });
  });

  it('classifySingle: a deadline shorter than the server latency fails DEADLINE_EXCEEDED', async () => {
    connect();
    server.setFaults({ latencyMs: 1_000 });
    const started = Date.now();
    const error = await firstValueFrom(client.classifySingle(raw('late'), { deadlineMs: 150 })).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED', status: 4 });
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('calls are cold: nothing reaches the server before subscribe', async () => {
    connect();
    server.resetCounters();
    const single = client.classifySingle(raw('cold'));
    const list = client.listDeployments();
    const stream = client.classifyStream(deployment(), of());
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.counters.unaryCalls + server.counters.streamsOpened).toBe(0);
    await firstValueFrom(defer(() => single).pipe(filter(Boolean)));
    await firstValueFrom(list);
    await lastValueFrom(stream, { defaultValue: undefined });
    expect(server.counters.unaryCalls).toBe(2);
    expect(server.counters.streamsOpened).toBe(1);
  });
});

describe('AthenaClient tokens against the embedded server', () => {
  let guarded: AthenaServer;
  const made: AthenaClient[] = [];
  const tokenClient = (credentials: TokenSource) => {
    const athena = new AthenaClient({ address: guarded.address, insecure: true, credentials });
    made.push(athena);
    return athena;
  };
  beforeAll(async () => {
    guarded = await startAthenaServer({ auth: { tokens: ['fresh'] } });
  });
  afterAll(async () => {
    for (const athena of made) athena.close();
    await guarded.close();
  });

  it('accepts a static token over loopback plaintext', async () => {
    const output = await firstValueFrom(tokenClient(staticToken('fresh')).classifySingle(raw('static')));
    expect(output.correlationId).toBe('static');
  });

  it('refuses a wrong token with UNAUTHENTICATED', async () => {
    await expect(firstValueFrom(tokenClient(staticToken('stale')).listDeployments())).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      status: 16,
    });
  });

  it('refreshes an expired token once and retries the unary call once', async () => {
    guarded.resetCounters();
    const source = rotatingSource(['expired', 'fresh']);
    const output = await firstValueFrom(tokenClient(source).classifySingle(raw('refreshed')));
    expect(output.correlationId).toBe('refreshed');
    expect(source.refreshes).toBe(1);
    expect(guarded.counters.unauthenticated).toBe(1);
    expect(guarded.counters.classifySingleCalls).toBe(2);
  });
});
