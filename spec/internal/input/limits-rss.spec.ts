import { spawn } from 'node:child_process';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenOnLoopback, writeEndless, type LoopbackServer } from '../../support/http-server.js';
import { jpegHead } from '../../support/image-heads.js';

const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
const GB = 1024 ** 3;
const MB = 1024 ** 2;
/** Most bytes one endless answer writes: bounds the loop, far above every cap in the child. */
const ENDLESS_BOUND = 4 * GB;
const CHILD_TIMEOUT_MS = 120_000;

const src = (path: string): string => JSON.stringify(pathToFileURL(join(repoRoot, path)).href);

/**
 * The child: loads everything and reads one small file and one small download (so lazily loaded
 * code is in), takes its RSS as the baseline, then meets each hostile input and prints its peak RSS.
 */
const script = `
import { fromFiles, fromUrls } from ${src('src/sources/index.ts')};

const [big, zeros, small, base] = process.argv.slice(2);
const once = { retry: { maxAttempts: 1 }, timeoutMs: 60_000 };
const run = (source) =>
  new Promise((done, fail) => {
    const values = [];
    source.subscribe({ next: (v) => (v.lease?.release(), values.push(v)), error: fail, complete: () => done(values) });
  });
await run(fromFiles([small]));
await run(fromUrls([base + '/small.jpg'], once));
globalThis.gc?.();
const baseline = process.memoryUsage().rss;
const cases = [
  ['sparse 1 GB file, default cap', () => fromFiles([big])],
  ['sparse 1 GB file of zeros, cap above its size', () => fromFiles([zeros], { maxBytes: ${2 * GB} })],
  ['endless body after a JPEG header, 16 MiB cap', () => fromUrls([base + '/endless.jpg'], { ...once, maxBytes: ${16 * MB} })],
  ['endless body of zeros, default cap', () => fromUrls([base + '/endless-zeros.jpg'], once)],
];
const results = {};
for (const [name, source] of cases) {
  const values = await run(source());
  results[name] = values.map((v) => (v.kind === 'failure' ? v.stage + ':' + v.error.code : v.kind)).join(',');
}
const peak = process.resourceUsage().maxRSS * 1024;
process.stdout.write(JSON.stringify({ baseline, peak, results }));
`;

let dir: string;
let server: LoopbackServer | undefined;
let base: string;
const open = new Set<ServerResponse>();

const endless = (res: ServerResponse, first: Uint8Array): void =>
  writeEndless(res, first, { bound: ENDLESS_BOUND, chunkBytes: 256 * 1024 });

function handle(req: IncomingMessage, res: ServerResponse): void {
  open.add(res);
  res.on('close', () => open.delete(res));
  if (req.url === '/endless.jpg') endless(res, jpegHead(100, 100, 4096));
  else if (req.url === '/endless-zeros.jpg') endless(res, new Uint8Array(4096));
  else if (req.url === '/small.jpg') res.end(Buffer.from(jpegHead(10, 10, 4096)));
  else res.writeHead(404).end();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'athena-rx-rss-'));
  await writeFile(join(dir, 'big.jpg'), jpegHead(100, 100, 4096));
  await truncate(join(dir, 'big.jpg'), GB);
  await writeFile(join(dir, 'zeros.jpg'), '');
  await truncate(join(dir, 'zeros.jpg'), GB);
  await writeFile(join(dir, 'small.jpg'), jpegHead(10, 10, 4096));
  await writeFile(join(dir, 'child.mts'), script);
  server = await listenOnLoopback(handle);
  base = server.base;
});

afterAll(async () => {
  for (const res of open) res.destroy();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function runChild(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      join(dir, 'child.mts'),
      ...['big.jpg', 'zeros.jpg', 'small.jpg'].map((f) => join(dir, f)),
      base,
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  return new Promise((done) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    }),
  );
}

describe('size caps hold memory down (a process of its own)', () => {
  it(
    'meets 1 GB files and endless bodies with peak RSS within 100 MB of the baseline',
    async () => {
      const run = await runChild();
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const { baseline, peak, results } = JSON.parse(run.stdout) as {
        baseline: number;
        peak: number;
        results: Record<string, string>;
      };
      expect(results).toEqual({
        'sparse 1 GB file, default cap': 'read:FILE_TOO_LARGE',
        'sparse 1 GB file of zeros, cap above its size': 'read:UNSUPPORTED_FORMAT',
        'endless body after a JPEG header, 16 MiB cap': 'read:FILE_TOO_LARGE',
        'endless body of zeros, default cap': 'read:UNSUPPORTED_FORMAT',
      });
      const measured = `baseline ${(baseline / MB).toFixed(1)} MB, peak ${(peak / MB).toFixed(1)} MB`;
      // Measured about +55 MB (undici's buffers and the garbage of the chunks read, not the inputs).
      expect(peak - baseline, measured).toBeLessThan(100 * MB);
    },
    CHILD_TIMEOUT_MS + 30_000,
  );
});
