/**
 * Section 11, browser preparation: the corpus prepared in headless Chromium (Debian's, driven by
 * playwright-core) by the `athena-rx/browser` test page, `resize` with 1 and 4 workers in exact and
 * fast mode, beside the Node path (`prepareImage`, sharp) at 1 and 4 in flight on the same files;
 * and fast mode's drift from the Node path's bytes, image by image.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { prepareImage } from '../src/imaging/prepare.js';
import type { PageOutcome, PageRun, PageRunResult } from '../spec/browser/page/page-types.js';
import {
  bundleForBrowser,
  CHROMIUM,
  launchChromium,
  modulePage,
  servePage,
  type PageFiles,
  type ServedPage,
} from '../spec/support/browser.js';
import { type CorpusFile } from './corpus.js';
import { timedPass } from './pool.js';
import { median } from './stats.js';

export const BROWSER_WORKERS: readonly number[] = [1, 4];

export interface BrowserRow {
  /** `node` (prepareImage) or `browser exact` / `browser fast` (resize in workers). */
  readonly path: string;
  /** In flight (Node) or workers (browser). */
  readonly parallel: number;
  /** Median over the rounds. */
  readonly imagesPerSecond: number;
  readonly rounds: readonly number[];
}

export interface BrowserResult {
  readonly chromium: string;
  readonly images: number;
  readonly rounds: number;
  readonly rows: readonly BrowserRow[];
  /** Exact mode over the corpus: images whose bytes differ from the Node path's (must be 0). */
  readonly exactDiffering: readonly string[];
  /** Fast mode's drift from the Node path, per image. */
  readonly fastDrift: readonly PageOutcome[];
}

/** Runs the measurements; `rounds` passes of every variant, interleaved. */
export async function measureBrowser(
  repoRoot: string,
  files: readonly CorpusFile[],
  rounds: number,
  log: (text: string) => void,
): Promise<BrowserResult> {
  const served: PageFiles = {
    'index.html': modulePage(),
    ...(await bundleForBrowser({
      main: join(repoRoot, 'spec/browser/page/prepare-page.ts'),
      worker: join(repoRoot, 'spec/browser/page/prepare-worker.ts'),
    })),
  };
  for (const file of files) {
    served[`inputs/${file.name}`] = file.data;
    served[`expected/${file.name}.bgr`] = (await prepareImage(file.data)).data;
  }
  const names = files.map((f) => f.name);
  let server: ServedPage | undefined;
  let browser: Browser | undefined;
  try {
    server = await servePage(served);
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => 'athenaPage' in globalThis, undefined, { timeout: 30_000 });
    const run = (request: PageRun): Promise<PageRunResult> => runPage(page, request);

    log('browser: exact and fast mode against the Node path bytes');
    const exact = await run({ names, mode: 'exact', size: 2, hash: false });
    const fast = await run({ names, mode: 'fast', size: 2, hash: false });
    const exactDiffering = exact.outcomes
      .filter((o) => o.kind !== 'image' || o.maxDiff !== 0)
      .map((o) => o.ref);

    const samples = new Map<string, number[]>();
    const add = (key: string, perSecond: number): void =>
      void samples.set(key, [...(samples.get(key) ?? []), perSecond]);
    for (let round = 0; round < rounds; round++) {
      for (const parallel of BROWSER_WORKERS) {
        const pass = await timedPass(files, parallel, (f) => prepareImage(f.data));
        add(`node|${parallel}`, (files.length * 1000) / pass.wallMs);
        for (const mode of ['exact', 'fast'] as const) {
          const result = await run({ names, mode, size: parallel, hash: false, compare: false });
          if (result.count !== files.length)
            throw new Error(`the page prepared ${result.count} of ${files.length}`);
          add(`browser ${mode}|${parallel}`, (files.length * 1000) / result.elapsedMs);
        }
        log(`browser: round ${round + 1}, ${parallel} in parallel done`);
      }
    }
    const rows = [...samples].map(([key, values]) => {
      const [path = '', parallel = '0'] = key.split('|');
      return { path, parallel: Number(parallel), imagesPerSecond: median(values), rounds: values };
    });
    return {
      chromium: browser.version(),
      images: files.length,
      rounds,
      rows,
      exactDiffering,
      fastDrift: fast.outcomes,
    };
  } finally {
    await browser?.close();
    await server?.close();
  }
}

function runPage(page: Page, request: PageRun): Promise<PageRunResult> {
  return page.evaluate(
    (r) =>
      (globalThis as unknown as { athenaPage: { run(r: PageRun): Promise<PageRunResult> } }).athenaPage.run(
        r,
      ),
    request,
  );
}

export { CHROMIUM };
