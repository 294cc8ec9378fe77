import { type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, ImageFormat, RequestEncoding } from '../../src/generated/athena/models.js';
import { startServe } from '../support/cli.js';
import {
  bearer,
  classifySingle,
  connect,
  listDeployments,
  openStream,
  rawBgr,
  rawInput,
  request,
} from '../testing/helpers.js';

const TOKEN = 'log-spec-secret-token-7f3a';
/** A recognisable colour: its raw bytes (or their base64) must never reach the log. */
const MARK = { r: 201, g: 17, b: 99 };

let dir = '';
let child: ChildProcess;
let address = '';
let stdout = '';

/** Resolves once stdout holds `count` lines matching `pattern`; rejects after `ms`. */
function waitForLines(pattern: RegExp, count: number, ms = 20_000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const lines = stdout.split('\n').filter((l) => pattern.test(l));
      if (lines.length < count) return false;
      clearTimeout(timer);
      child.stdout?.off('data', check);
      resolve(lines);
      return true;
    };
    const timer = setTimeout(() => {
      child.stdout?.off('data', check);
      reject(new Error(`no ${count} lines like ${pattern} in: ${stdout}`));
    }, ms);
    child.stdout?.on('data', check);
    check();
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'athena-serve-log-'));
  ({ child, address } = await startServe([
    '--log',
    join(dir, 'requests.jsonl'),
    '--token',
    TOKEN,
    '--affiliate',
    'acme',
  ]));
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
}, 30_000);
afterAll(async () => {
  if (child.exitCode === null) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('athena-rx serve --log', () => {
  it('logs every request and output with ids and codes, prints counters on SIGUSR1 and at exit', async () => {
    const client = connect(address);
    try {
      const auth = bearer(TOKEN);
      await listDeployments(client, auth);
      const s = openStream(client, auth);
      s.send(request('log-dep', []));
      s.send(
        request('log-dep', [
          rawInput('good-1', {
            data: rawBgr(MARK),
            encoding: RequestEncoding.REQUEST_ENCODING_UNCOMPRESSED,
          }),
          rawInput('stranger-1', { affiliate: 'initech' }),
        ]),
      );
      await s.waitForOutputs(2, 20_000);
      s.call.end();
      await s.ended;
      const single = await classifySingle(
        client,
        rawInput('single-1', { format: ImageFormat.IMAGE_FORMAT_PNG, data: Buffer.from('no png') }),
        auth,
      );
      expect(single.error?.code).toBe(ErrorCode.ERROR_CODE_UNSPECIFIED);
      await expect(listDeployments(client, bearer('wrong-token'))).rejects.toMatchObject({ code: 16 });
    } finally {
      client.close();
    }

    child.kill('SIGUSR1');
    const [live] = await waitForLines(/^counters /, 1);
    const counters = JSON.parse(live!.slice('counters '.length)) as Record<string, unknown>;
    expect(counters).toMatchObject({
      requests: 1,
      keepalives: 1,
      inputs: 2,
      outputs: 2,
      classifySingleCalls: 1,
    });
    expect(counters.unauthenticated).toBe(1);

    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('serve did not exit after SIGTERM')), 20_000).unref(),
    );
    expect(await Promise.race([exited, timeout])).toBe(0);
    expect(stdout.split('\n').filter((l) => l.startsWith('counters '))).toHaveLength(2);

    const text = await readFile(join(dir, 'requests.jsonl'), 'utf8');
    const events = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const shape = events.map(({ time, ...rest }) => {
      expect(Number.isNaN(Date.parse(String(time)))).toBe(false);
      return rest;
    });
    expect(shape).toEqual([
      { type: 'request', method: 'ListDeployments', inputs: [] },
      { type: 'output', method: 'ListDeployments', deployments: 0 },
      { type: 'request', method: 'Classify', deploymentId: 'log-dep', inputs: [] },
      {
        type: 'request',
        method: 'Classify',
        deploymentId: 'log-dep',
        inputs: [
          {
            correlationId: 'good-1',
            affiliate: 'acme',
            format: 'RAW_UINT8_BGR',
            encoding: 'UNCOMPRESSED',
            bytes: 602_112,
            hashes: 0,
          },
          {
            correlationId: 'stranger-1',
            affiliate: 'initech',
            format: 'RAW_UINT8_BGR',
            encoding: 'BROTLI',
            bytes: expect.any(Number),
            hashes: 0,
          },
        ],
      },
      { type: 'output', method: 'Classify', deploymentId: 'log-dep', correlationId: 'good-1', labels: 8 },
      {
        type: 'output',
        method: 'Classify',
        deploymentId: 'log-dep',
        correlationId: 'stranger-1',
        code: 'AFFILIATE_NOT_PERMITTED',
      },
      {
        type: 'request',
        method: 'ClassifySingle',
        inputs: [
          {
            correlationId: 'single-1',
            affiliate: 'acme',
            format: 'PNG',
            encoding: 'BROTLI',
            bytes: 6,
            hashes: 0,
          },
        ],
      },
      { type: 'output', method: 'ClassifySingle', correlationId: 'single-1', code: 'UNSPECIFIED' },
      { type: 'request', method: 'ListDeployments', inputs: [] },
      { type: 'status', method: 'ListDeployments', status: 16 },
    ]);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain('wrong-token');
    expect(text).not.toContain(rawBgr(MARK).subarray(0, 48).toString('base64'));
    expect(text).not.toContain(String.fromCharCode(MARK.b, MARK.g, MARK.r));
  }, 60_000);
});
