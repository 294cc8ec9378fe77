import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ItemOrFailure } from '../../../src/model.js';
import { fromUrls, type FetchLike } from '../../../src/sources/fromUrls.js';
import { collect, summary, waitFor } from '../../sources/helpers.js';
import { listenOnLoopback, writeEndless, type LoopbackServer } from '../../support/http-server.js';
import { jpegHead } from '../../support/image-heads.js';

const SIGNATURE = 'Sig5ecretXYZ0123456789abcdef';
const CHUNK = 64 * 1024;
/** Most bytes any endless answer writes: a bound on the loop, far above every cap used here. */
const ENDLESS_BOUND = 512 * 1024 * 1024;

let server: LoopbackServer;
let base: string;
let written = new Map<string, number>();
let closed = new Set<string>();
let requests = 0;

/** The endless answer at `path`: what it wrote is in `written`, its closing in `closed`. */
function endless(path: string, res: ServerResponse, first: Uint8Array): void {
  res.on('close', () => closed.add(path));
  writeEndless(res, first, {
    bound: ENDLESS_BOUND,
    chunkBytes: CHUNK,
    onSent: (sent) => written.set(path, sent),
  });
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  requests += 1;
  const path = (req.url ?? '').split('?')[0]!;
  if (path === '/endless.jpg') endless(path, res, jpegHead(100, 100, 1024));
  else if (path === '/endless-zeros.jpg') endless(path, res, new Uint8Array(1024));
  else if (path === '/declared.jpg') {
    res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) });
    res.on('close', () => closed.add(path));
    res.write(Buffer.from(jpegHead(100, 100, 1024))); // and never the rest
  } else if (path === '/small.jpg') res.end(Buffer.from(jpegHead(10, 10, 2048)));
  else if (path === '/echo-reason.jpg') {
    // A reason phrase echoing the request: query string, and the signature alone, decoded.
    const query = (req.url ?? '').slice(path.length);
    const value = new URL(req.url ?? '', 'http://x').searchParams.get('X-Amz-Signature') ?? '';
    res.writeHead(403, `Denied ${query} sig=${value}`).end();
  } else if (path === '/long-reason.jpg') res.writeHead(500, 'x'.repeat(5000)).end();
  else res.writeHead(404).end();
}

beforeAll(async () => {
  server = await listenOnLoopback(handle);
  base = server.base;
});
afterAll(() => server.close());
beforeEach(() => {
  written = new Map();
  closed = new Set();
  requests = 0;
});

const failure = (value: ItemOrFailure | undefined) => {
  if (value?.kind !== 'failure') throw new Error(`expected a failure, got ${value?.kind}`);
  return value;
};
const once = { retry: { maxAttempts: 1 }, timeoutMs: 20_000 } as const;

describe('downloading safely (fromUrls)', () => {
  it('aborts an endless body as soon as it passes maxBytes (FILE_TOO_LARGE) and hangs up', async () => {
    const cap = 2 * 1024 * 1024;
    const [value] = await collect(fromUrls([`${base}/endless.jpg`], { ...once, maxBytes: cap }));
    expect(failure(value)).toMatchObject({ stage: 'read', error: { code: 'FILE_TOO_LARGE' } });
    expect(failure(value).error.message).toContain(`more than the limit of ${cap} bytes`);
    await waitFor(() => closed.has('/endless.jpg'));
    expect(closed.has('/endless.jpg')).toBe(true);
    // What the server got out before the hang-up: the cap plus what sat in socket buffers.
    expect(written.get('/endless.jpg')).toBeLessThan(cap + 32 * 1024 * 1024);
  });

  it('judges an endless body from its first bytes: no image format, without waiting for the cap', async () => {
    const [value] = await collect(fromUrls([`${base}/endless-zeros.jpg`], once));
    expect(failure(value)).toMatchObject({ stage: 'read', error: { code: 'UNSUPPORTED_FORMAT' } });
    await waitFor(() => closed.has('/endless-zeros.jpg'));
    expect(written.get('/endless-zeros.jpg')).toBeLessThan(64 * 1024 * 1024);
  });

  it('fails an answer whose Content-Length is over the cap before reading its body', async () => {
    const [value] = await collect(
      fromUrls([`${base}/declared.jpg?token=abc`], { ...once, maxBytes: 1024 ** 2 }),
    );
    expect(failure(value).error).toMatchObject({
      code: 'FILE_TOO_LARGE',
      message: `${base}/declared.jpg?<redacted> has ${10 * 1024 ** 2} bytes, more than the limit of ${1024 ** 2} bytes`,
    });
    await waitFor(() => closed.has('/declared.jpg'));
    expect(closed.has('/declared.jpg')).toBe(true);
  });

  it('does not retry an input over the cap (the retry policy allows 3 attempts)', async () => {
    const retry = { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5 };
    const [value] = await collect(fromUrls([`${base}/declared.jpg`], { retry, maxBytes: 1024 }));
    expect(failure(value).error.code).toBe('FILE_TOO_LARGE');
    expect(requests).toBe(1);
  });

  it('still reads a body within the cap', async () => {
    const [value] = await collect(fromUrls([`${base}/small.jpg`], { ...once, maxBytes: 2048 }));
    expect(value?.kind === 'image' && value.data.byteLength).toBe(2048);
  });

  it('caps a body read whole by a fetch without a stream', async () => {
    const fetch: FetchLike = async () => ({ status: 200, arrayBuffer: async () => new ArrayBuffer(11) });
    const values = await collect(fromUrls(['https://h/a'], { fetch, maxBytes: 10 }));
    expect(values.map(summary)).toEqual(['https://h/a:read:FILE_TOO_LARGE']);
  });

  it('never lets a reason phrase carry the signature of a pre-signed URL', async () => {
    const url = `${base}/echo-reason.jpg?X-Amz-Credential=AKIAEXAMPLE%2F2024&X-Amz-Signature=${SIGNATURE}`;
    const [value] = await collect(fromUrls([url], once));
    const error = failure(value).error;
    expect(error).toMatchObject({ code: 'HTTP_ERROR', details: '403' });
    expect(error.message).toMatch(/^HTTP 403 Denied /);
    const everything = JSON.stringify({ ...failure(value), lease: undefined, message: error.message });
    expect(everything).not.toContain(SIGNATURE);
    expect(everything).not.toContain('AKIAEXAMPLE');
    expect(error.message).toBe(
      `HTTP 403 Denied ?<redacted> sig=<redacted> from ${base}/echo-reason.jpg?<redacted>`,
    );
  });

  it('caps a long reason phrase', async () => {
    const [value] = await collect(fromUrls([`${base}/long-reason.jpg`], once));
    const message = failure(value).error.message;
    expect(message).toContain('more characters cut');
    expect(message.length).toBeLessThan(1300);
  });

  it('refuses a bad maxBytes when called', () => {
    expect(() => fromUrls([], { maxBytes: -1 })).toThrow(RangeError);
  });
});
