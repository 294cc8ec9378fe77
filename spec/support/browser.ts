/**
 * Real headless Chromium for tests: Debian's `/usr/bin/chromium` driven by `playwright-core` (which
 * downloads nothing), pages bundled with esbuild exactly as an app's bundler would (nothing marked
 * external, `.wasm` files emitted beside the bundle), and a loopback HTTP server for them. Without
 * Chromium the tests are skipped, except in CI, where one failing test says so.
 */
import { existsSync } from 'node:fs';
import { extname, relative } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { describe, it } from 'vitest';
import { listenOnLoopback } from './http-server.js';

/** Debian's Chromium, as `.ci/run` installs it. */
export const CHROMIUM = process.env['ATHENA_CHROMIUM'] ?? '/usr/bin/chromium';

/** Whether Chromium is installed. */
export const HAVE_CHROMIUM = existsSync(CHROMIUM);

/** Flags for a quiet, sandbox-free headless Chromium that talks to nothing but the test's server. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * `describe` for tests that need Chromium: runs them when it is installed; in CI without it, one
 * test fails saying so; elsewhere they are skipped with a message naming where it was looked for.
 */
export function describeWithChromium(name: string, body: () => void): void {
  if (HAVE_CHROMIUM) describe(name, body);
  else if (process.env['CI']) {
    describe(name, () => {
      it('finds Chromium', () => {
        throw new Error(`Chromium is missing: expected it at ${CHROMIUM} (apt-get install chromium)`);
      });
    });
  } else describe.skip(`${name} (no Chromium at ${CHROMIUM})`, body);
}

/**
 * Starts headless Chromium with a fresh, throwaway profile (Playwright makes a new user-data dir
 * for every launch and removes it on close). Close it with `browser.close()`.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/** Files by URL path relative to the server root (`'index.html'`, `'main.js'`), bytes or text. */
export type PageFiles = Record<string, Uint8Array | string>;

/**
 * Bundles TypeScript entry points for the browser with esbuild, as an app would: ES modules, every
 * import bundled (nothing external), `.wasm` imports emitted as files whose URL the import gives.
 * `entries` maps output names (`'main'` gives `main.js`) to source paths; answers the output files.
 */
export async function bundleForBrowser(entries: Record<string, string>): Promise<PageFiles> {
  const outdir = '/bundle';
  const result = await build({
    entryPoints: entries,
    outdir,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'chrome110',
    write: false,
    loader: { '.wasm': 'file' },
    assetNames: '[name]-[hash]',
    logLevel: 'silent',
  });
  if (result.errors.length > 0) throw new Error(result.errors.map((e) => e.text).join('\n'));
  return Object.fromEntries(result.outputFiles.map((file) => [relative(outdir, file.path), file.contents]));
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
};

export interface ServedPage {
  /** `http://127.0.0.1:<port>/`. */
  readonly url: string;
  /** Adds or replaces files while serving. */
  readonly files: PageFiles;
  close(): Promise<void>;
}

/** Serves `files` on a loopback port (404 for anything else); `url` is the root. */
export async function servePage(files: PageFiles): Promise<ServedPage> {
  const served: PageFiles = { ...files };
  const { base, close } = await listenOnLoopback((request, response) => {
    const path =
      decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname.slice(1)) || 'index.html';
    const body = served[path];
    if (body === undefined) {
      response.writeHead(404).end();
      return;
    }
    const type = TYPES[extname(path)] ?? 'application/octet-stream';
    response.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
  });
  return { url: `${base}/`, files: served, close };
}

/** An HTML page that loads `script` (a module) and nothing else. */
export function modulePage(script = 'main.js'): string {
  return `<!doctype html><html><head><meta charset="utf-8"><script type="module" src="./${script}"></script></head><body></body></html>`;
}
