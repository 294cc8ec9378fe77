import type { IncomingMessage, ServerResponse } from 'node:http';
import { VirtualTimeScheduler } from 'rxjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ItemFailure, ItemOrFailure } from '../../src/model.js';
import { fromUrls, type FetchLike } from '../../src/sources/fromUrls.js';
import { collect, summary, ticks, waitFor } from './helpers.js';
import { listenOnLoopback, type LoopbackServer } from '../support/http-server.js';

let server: LoopbackServer;
let base: string;
const hits = new Map<string, number>();
let closedEarly = 0;

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '').split('?')[0]!;
  const count = (hits.get(path) ?? 0) + 1;
  hits.set(path, count);
  if (path === '/ok.jpg') {
    res.end(Buffer.from([1, 2, 3]));
  } else if (path === '/flaky.jpg') {
    if (count === 1) res.writeHead(503).end('busy');
    else res.end(Buffer.from([7]));
  } else if (path === '/always-500.jpg') {
    res.writeHead(500).end('broken');
  } else if (path === '/empty.jpg') {
    res.end();
  } else if (path === '/headers') {
    res.end(String(req.headers['x-test'] ?? 'none'));
  } else if (path === '/forbidden.jpg') {
    res.writeHead(403).end(`denied ${req.url}`);
  } else if (path === '/slow.jpg') {
    res.on('close', () => {
      if (!res.writableEnded) closedEarly += 1;
    });
  } else {
    res.writeHead(404).end('not found');
  }
}

beforeAll(async () => {
  server = await listenOnLoopback(handle);
  base = server.base;
});
afterAll(() => server.close());
beforeEach(() => {
  hits.clear();
  closedEarly = 0;
});

const fast = { retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5 } } as const;
const failureOf = (value: ItemOrFailure | undefined): ItemFailure => {
  if (value?.kind !== 'failure') throw new Error(`expected a failure, got ${value?.kind}`);
  return value;
};

describe('fromUrls', () => {
  it('downloads images, and fails a 404 without retrying it', async () => {
    const values = await collect(fromUrls([`${base}/ok.jpg`, new URL(`${base}/missing.jpg`)], fast));
    expect(values.map(summary)).toEqual([`${base}/ok.jpg`, `${base}/missing.jpg:read:HTTP_ERROR`]);
    expect(values.map((v) => v.index)).toEqual([0, 1]);
    expect(values[0]!.kind === 'image' && [...values[0]!.data]).toEqual([1, 2, 3]);
    const failure = failureOf(values[1]);
    expect(failure.error.details).toBe('404');
    expect(failure.error.message).toContain('404');
    expect(hits.get('/missing.jpg')).toBe(1);
  });

  it('retries a 5xx, then gets the image', async () => {
    const values = await collect(fromUrls([`${base}/flaky.jpg`], fast));
    expect(values.map(summary)).toEqual([`${base}/flaky.jpg`]);
    expect(hits.get('/flaky.jpg')).toBe(2);
  });

  it('gives up after maxAttempts with the last status', async () => {
    const values = await collect(fromUrls([`${base}/always-500.jpg`], fast));
    expect(failureOf(values[0]).error.details).toBe('500');
    expect(hits.get('/always-500.jpg')).toBe(3);
  });

  it('times out a slow answer, and aborts the request', async () => {
    const values = await collect(
      fromUrls([`${base}/slow.jpg`], { timeoutMs: 100, retry: { maxAttempts: 2, initialDelayMs: 1 } }),
    );
    const failure = failureOf(values[0]);
    expect(failure.stage).toBe('read');
    expect(failure.error.code).toBe('HTTP_ERROR');
    expect(failure.error.details).toBe('timeout');
    expect(hits.get('/slow.jpg')).toBe(2);
    await ticks();
    expect(closedEarly).toBe(2);
  });

  it('never shows the query string of a pre-signed URL', async () => {
    const secret = 'X-Amz-Signature=topsecret123&X-Amz-Credential=AKIAEXAMPLE';
    const urls = [
      `${base}/ok.jpg?${secret}`,
      `${base}/forbidden.jpg?${secret}`,
      `http://127.0.0.1:1/x.jpg?${secret}`,
    ];
    const values = await collect(fromUrls(urls, { ...fast, retry: { maxAttempts: 1 } }));
    expect(values.map((v) => v.ref)).toEqual([
      `${base}/ok.jpg?<redacted>`,
      `${base}/forbidden.jpg?<redacted>`,
      'http://127.0.0.1:1/x.jpg?<redacted>',
    ]);
    expect(failureOf(values[2]).error.details).toBe('network');
    const text = JSON.stringify(values.map((v) => ({ ...v, data: undefined, lease: undefined })));
    const messages = values.flatMap((v) =>
      v.kind === 'failure' ? [v.error.message, String(v.error.cause)] : [],
    );
    for (const part of ['topsecret123', 'AKIAEXAMPLE']) {
      expect(text).not.toContain(part);
      for (const message of messages) expect(message).not.toContain(part);
    }
  });

  it('fails an empty body and a URL that is not http(s)', async () => {
    const values = await collect(fromUrls([`${base}/empty.jpg`, 'ftp://host/a.jpg', 'not a url'], fast));
    expect(values.map(summary)).toEqual([
      `${base}/empty.jpg:read:EMPTY_INPUT`,
      'ftp://host/a.jpg:read:INVALID_INPUT',
      'not a url:read:INVALID_INPUT',
    ]);
  });

  it('sends the headers given', async () => {
    const values = await collect(fromUrls([`${base}/headers`], { headers: { 'x-test': 'hello' } }));
    expect(values[0]!.kind === 'image' && Buffer.from(values[0]!.data).toString()).toBe('hello');
  });

  it('uses an injected fetch, not before subscribe, and keeps order under concurrency', async () => {
    const calls: string[] = [];
    const fetch: FetchLike = async (url) => {
      calls.push(url);
      await ticks(url.endsWith('a') ? 5 : 1);
      return { status: 200, arrayBuffer: async () => new Uint8Array([url.length]).buffer };
    };
    const source = fromUrls(['https://h/a', 'https://h/bb', 'https://h/ccc'], { fetch, concurrency: 3 });
    await ticks();
    expect(calls).toEqual([]);
    const values = await collect(source);
    expect(values.map((v) => v.ref)).toEqual(['https://h/a', 'https://h/bb', 'https://h/ccc']);
  });

  it('aborts downloads in flight on unsubscribe', async () => {
    const subscription = fromUrls([`${base}/slow.jpg`, `${base}/slow.jpg`], { concurrency: 2 }).subscribe();
    for (let i = 0; i < 50 && (hits.get('/slow.jpg') ?? 0) < 2; i += 1) await ticks(5);
    subscription.unsubscribe();
    for (let i = 0; i < 50 && closedEarly < 2; i += 1) await ticks(5);
    expect(closedEarly).toBe(2);
  });

  it('validates its arguments when called', () => {
    expect(() => fromUrls('https://h/a' as unknown as string[])).toThrow(TypeError);
    expect(() => fromUrls([], { timeoutMs: 0 })).toThrow(RangeError);
    expect(() => fromUrls([], { retry: { maxAttempts: 0 } })).toThrow(RangeError);
    expect(() => fromUrls([], { headers: { a: 1 as unknown as string } })).toThrow(TypeError);
    expect(() => fromUrls([], { concurrency: 0 })).toThrow(RangeError);
  });
});

describe('fromUrls: lease.source.unread()', () => {
  it('counts the URLs of a list not pulled yet, down to 0 at the end', async () => {
    const fetch: FetchLike = async () => ({
      status: 200,
      arrayBuffer: async () => new Uint8Array([1]).buffer,
    });
    const urls = ['https://h/a', 'https://h/b', 'https://h/c'];
    const seen: ItemOrFailure[] = [];
    const subscription = fromUrls(urls, { fetch, window: 1 }).subscribe((v) => seen.push(v));
    await waitFor(() => seen.length >= 1);
    expect(seen[0]!.lease!.source!.unread()).toBe(2);
    subscription.unsubscribe();
    const all = await collect(fromUrls(urls, { fetch, window: 1 }));
    expect(all.map((v) => v.lease!.source!.unread())).toEqual([0, 0, 0]);
  });
});

describe('fromUrls: retries and timeouts on the injected scheduler', () => {
  /** Runs the virtual clock to `frame`, letting the fetch promises settle around it. */
  async function advance(scheduler: VirtualTimeScheduler, frame: number): Promise<void> {
    await ticks(5);
    scheduler.maxFrames = frame;
    scheduler.flush();
    await ticks(5);
  }

  const answers =
    (statuses: number[], at: number[], scheduler: VirtualTimeScheduler): FetchLike =>
    async () => {
      at.push(scheduler.now());
      const status = statuses[Math.min(at.length, statuses.length) - 1]!;
      return { status, statusText: 'busy', arrayBuffer: async () => new Uint8Array([9]).buffer };
    };

  it('waits its backoff in virtual time between attempts, then gets the image', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const scheduler = new VirtualTimeScheduler();
    const at: number[] = [];
    const fetch = answers([503, 503, 200], at, scheduler);
    const seen: ItemOrFailure[] = [];
    const options = { fetch, scheduler, retry: { initialDelayMs: 100, maxDelayMs: 1_000 } };
    const subscription = fromUrls(['https://h/a.jpg'], options).subscribe((v) => seen.push(v));
    try {
      await advance(scheduler, 0);
      expect(at).toEqual([0]);
      await advance(scheduler, 49);
      expect(at).toEqual([0]); // the first wait is 0.5 x 100
      await advance(scheduler, 50);
      expect(at).toEqual([0, 50]);
      await advance(scheduler, 150); // the second 0.5 x 200
      expect(at).toEqual([0, 50, 150]);
      expect(seen.map(summary)).toEqual(['https://h/a.jpg']);
    } finally {
      subscription.unsubscribe();
      vi.restoreAllMocks();
    }
  });

  it('times an attempt out on the scheduler and gives up after maxAttempts', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const scheduler = new VirtualTimeScheduler();
    const at: number[] = [];
    const fetch: FetchLike = (_url, init) => {
      at.push(scheduler.now());
      return new Promise((_resolve, reject) =>
        init.signal.addEventListener('abort', () => reject(init.signal.reason)),
      );
    };
    const seen: ItemOrFailure[] = [];
    const options = { fetch, scheduler, timeoutMs: 1_000, retry: { maxAttempts: 2 } };
    const subscription = fromUrls(['https://h/a.jpg'], options).subscribe((v) => seen.push(v));
    try {
      await advance(scheduler, 999);
      expect(at).toEqual([0]);
      await advance(scheduler, 1_000); // timed out; the retry waits 0 (random 0)
      await advance(scheduler, 1_000);
      expect(at).toEqual([0, 1_000]);
      await advance(scheduler, 2_000);
      expect(seen.map(summary)).toEqual(['https://h/a.jpg:read:HTTP_ERROR']);
      expect(failureOf(seen[0]).error.details).toBe('timeout');
    } finally {
      subscription.unsubscribe();
      vi.restoreAllMocks();
    }
  });
});
