/**
 * The browser entry point in real headless Chromium: a page bundled with esbuild reads files with
 * `fromFileList`, hashes them and prepares them in a pool of module workers with the WebAssembly
 * decoders, and every prepared image must equal the Node path's (`prepareImage`, sharp) byte for
 * byte: the corpus JPEGs, PNGs and WebPs, and the layouts the corpus lacks (every EXIF orientation,
 * grey, palette, alpha, 16-bit).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type AthenaError } from '../../src/errors.js';
import { prepareImage } from '../../src/imaging/prepare.js';
import { imageVariants } from '../fixtures/imaging/variants.js';
import {
  bundleForBrowser,
  describeWithChromium,
  launchChromium,
  modulePage,
  servePage,
  type PageFiles,
  type ServedPage,
} from '../support/browser.js';
import { CORPUS, HAVE_CORPUS } from '../support/corpus.js';
import { root } from '../support/package.js';
import type { PageRun, PageRunResult } from './page/page-types.js';

const JUNK = 'notes.txt';
const GIF = 'one-pixel.gif';
/** A valid 1x1 GIF: the Node path decodes it with sharp, the browser does not prepare GIFs. */
const GIF_BYTES = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');

let browser: Browser | undefined;
let server: ServedPage | undefined;
let page: Page;
const inputs = new Map<string, Buffer>();
/** The Node path's width and height of each input. */
const nodeSizes = new Map<string, [number, number]>();
let corpus: string[] = [];
let variants: string[] = [];

async function runPage(request: PageRun): Promise<PageRunResult> {
  return page.evaluate(
    (r) =>
      (globalThis as unknown as { athenaPage: { run(r: PageRun): Promise<PageRunResult> } }).athenaPage.run(
        r,
      ),
    request,
  );
}

const digest = (kind: string, bytes: Uint8Array): string => createHash(kind).update(bytes).digest('hex');

describeWithChromium('athena-rx/browser in headless Chromium', () => {
  beforeAll(async () => {
    const files: PageFiles = {
      'index.html': modulePage(),
      ...(await bundleForBrowser({
        main: join(root, 'spec/browser/page/prepare-page.ts'),
        worker: join(root, 'spec/browser/page/prepare-worker.ts'),
      })),
    };
    if (HAVE_CORPUS) {
      corpus = (await readdir(CORPUS)).filter((name) => /\.(jpe?g|png|webp)$/i.test(name)).sort();
      for (const name of corpus) inputs.set(name, await readFile(join(CORPUS, name)));
    }
    const generated = await imageVariants(await readFile(join(root, 'samples/17-dragonfly-small.jpg')));
    variants = Object.keys(generated);
    for (const [name, bytes] of Object.entries(generated)) inputs.set(name, bytes);
    for (const [name, bytes] of inputs) {
      files[`inputs/${name}`] = bytes;
      const node = await prepareImage(bytes);
      files[`expected/${name}.bgr`] = node.data;
      nodeSizes.set(name, [node.width, node.height]);
    }
    files[`inputs/${JUNK}`] = 'not an image, just some words\n'.repeat(8);
    files[`inputs/${GIF}`] = GIF_BYTES;
    server = await servePage(files);
    browser = await launchChromium();
    page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(server.url);
    await page.waitForFunction(() => 'athenaPage' in globalThis, undefined, { timeout: 20_000 });
    expect(errors).toEqual([]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it.skipIf(!HAVE_CORPUS && !process.env['CI'])(
    'prepares every corpus JPEG, PNG and WebP in workers with exactly the Node path bytes, hashes and sizes',
    async () => {
      expect(corpus.length, `the corpus at ${CORPUS}`).toBeGreaterThanOrEqual(24);
      const result = await runPage({ names: corpus, mode: 'exact', size: 2 });
      expect(result.count).toBe(corpus.length);
      for (const outcome of result.outcomes) {
        const original = inputs.get(outcome.ref)!;
        expect({ ref: outcome.ref, kind: outcome.kind, code: outcome.code }).toEqual({
          ref: outcome.ref,
          kind: 'image',
          code: undefined,
        });
        expect({ ref: outcome.ref, maxDiff: outcome.maxDiff, length: outcome.length }).toEqual({
          ref: outcome.ref,
          maxDiff: 0,
          length: 602_112,
        });
        expect([outcome.width, outcome.height]).toEqual(nodeSizes.get(outcome.ref));
        expect(outcome.hashes).toEqual([digest('md5', original), digest('sha1', original)]);
      }
      expect(new Set(result.outcomes.map((o) => o.ref))).toEqual(new Set(corpus));
    },
    90_000,
  );

  it('prepares every EXIF orientation, grey, palette, alpha and 16-bit layout exactly as the Node path does', async () => {
    const result = await runPage({ names: variants, mode: 'exact', size: 2 });
    const seen = result.outcomes.map((o) => [o.ref, o.message ?? o.kind, o.maxDiff, o.width, o.height]);
    const expected = variants.map((name) => [name, 'image', 0, ...nodeSizes.get(name)!]);
    expect(seen.sort()).toEqual(expected.sort());
    // The orientations that swap axes did turn the image: 240 x 320, as in Node.
    expect(seen.filter((o) => o[3] === 240).map((o) => o[0])).toEqual(
      expect.arrayContaining(['orient-5.jpg', 'orient-6.jpg', 'orient-7.jpg', 'orient-8.jpg']),
    );
  });

  it('fails bytes in no image format at stage decode with UNSUPPORTED_FORMAT, as the Node path does', async () => {
    const junk = Buffer.from('not an image, just some words\n'.repeat(8));
    const node = await prepareImage(junk).then(
      () => 'prepared',
      (error: AthenaError) => error.code,
    );
    expect(node).toBe('UNSUPPORTED_FORMAT');
    const result = await runPage({ names: [JUNK, GIF, 'orient-6.jpg'], mode: 'exact', size: 1 });
    const byRef = Object.fromEntries(result.outcomes.map((o) => [o.ref, [o.kind, o.stage, o.code]]));
    expect(byRef).toEqual({
      [JUNK]: ['failure', 'decode', node],
      // A GIF is an image the service takes, but not one the browser prepares: the same typed failure.
      [GIF]: ['failure', 'decode', 'UNSUPPORTED_FORMAT'],
      'orient-6.jpg': ['image', undefined, undefined],
    });
  });

  it('a worker that cannot start fails its images at stage resize with INTERNAL, and the run still ends', async () => {
    const result = await runPage({
      names: ['orient-2.jpg', 'grey.png', 'rgba.webp'],
      mode: 'exact',
      size: 2,
      workerScript: 'missing-worker.js',
    });
    expect(result.outcomes.map((o) => [o.ref, o.kind, o.stage, o.code]).sort()).toEqual([
      ['grey.png', 'failure', 'resize', 'INTERNAL'],
      ['orient-2.jpg', 'failure', 'resize', 'INTERNAL'],
      ['rgba.webp', 'failure', 'resize', 'INTERNAL'],
    ]);
  });

  it("fast mode decodes natively: every image prepared, close to the Node path's bytes; the drift is reported", async () => {
    // Every layout, and a few photos of each format (the bench measures the whole corpus).
    const photos = corpus.filter((name, i) => i % 4 === 0 || !name.endsWith('.jpg'));
    const names = [...photos, ...variants];
    const result = await runPage({ names, mode: 'fast', size: 2, hash: false });
    expect(result.outcomes.map((o) => o.kind)).toEqual(names.map(() => 'image'));
    const rows = result.outcomes.map((o) => `${o.ref}: max ${o.maxDiff}, mean ${o.meanDiff?.toFixed(3)}`);
    console.info(`fast-mode drift from the Node path (grey levels):\n${rows.join('\n')}`);
    for (const outcome of result.outcomes) {
      expect(outcome.length).toBe(602_112);
      // Opaque images: Chromium's decoders are libjpeg-turbo, libpng and libwebp too, so the bytes
      // come out (nearly) the same; with alpha, the canvas's premultiplied colour moves them.
      if (!outcome.ref.startsWith('rgba')) expect(outcome.meanDiff, outcome.ref).toBeLessThan(1);
      else expect(outcome.maxDiff, outcome.ref).toBeGreaterThan(0);
    }
  });
});
