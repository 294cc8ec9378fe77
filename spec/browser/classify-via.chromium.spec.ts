/**
 * classifyVia in real headless Chromium (Debian's package, driven by playwright-core): a page bundled
 * with esbuild classifies prepared images through a Nest application with the gateway, against the
 * embedded server. The images are prepared in Node and handed to the page.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAthenaServer, type AthenaServer } from '../../src/testing/server.js';
import type { PageImage, PageOutcome } from '../fixtures/browser/gateway-page.js';
import { bundlePage, launchChromium, RUN_CHROMIUM } from '../support/browser-gateway.js';
import { pixels, prepared, startGatewayApp, type GatewayApp } from '../support/gateway-app.js';

const COLOURS = [pixels(235, 206, 135), pixels(34, 139, 34), pixels(20, 20, 200), pixels(90, 90, 90)];

function pageImages(prefix: string, n: number, colour?: Buffer): PageImage[] {
  return Array.from({ length: n }, (_, i) => {
    const item = prepared(`${prefix}-${i}`, colour ?? (COLOURS[i % COLOURS.length] as Buffer), true);
    const [md5, sha1] = item.hashes.map((h) => h.value) as [string, string];
    return { id: `${prefix}-${i}`, base64: Buffer.from(item.data).toString('base64'), md5, sha1 };
  });
}

describe.runIf(RUN_CHROMIUM)('classifyVia in headless Chromium through the Nest gateway', () => {
  let athena: AthenaServer;
  let gateway: GatewayApp;
  let browser: Browser;
  let script: string;

  beforeAll(async () => {
    [athena, browser, script] = await Promise.all([
      startAthenaServer({ auth: { tokens: ['gw-token'] } }),
      launchChromium(),
      bundlePage('../fixtures/browser/gateway-page.ts'),
    ]);
    gateway = await startGatewayApp({ athena: athena.address, deploymentId: `chromium-${process.pid}` });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await athena?.close();
  });

  async function openPage(): Promise<Page> {
    const page = await browser.newPage();
    await page.addScriptTag({ content: script });
    return page;
  }

  function classifyIn(page: Page, images: readonly PageImage[]): Promise<PageOutcome[]> {
    return page.evaluate(([url, list]) => globalThis.classifyImages(url, list), [
      gateway.url,
      images,
    ] as const);
  }

  it('classifies 50 images, one outcome each, with the socket dropped mid-run', async () => {
    const page = await openPage();
    const first = gateway.sockets.length;
    await page.exposeFunction('outcomeSeen', (count: number) => {
      if (count === 20) gateway.sockets[first]?.terminate();
    });
    const images = pageImages('page', 50);
    const outcomes = await classifyIn(page, images);
    expect(outcomes.map((o) => o.id).sort()).toEqual(images.map((i) => i.id).sort());
    expect(outcomes.filter((o) => !o.result.startsWith('['))).toEqual([]);
    expect(gateway.sockets.length - first).toBe(2);
    await page.close();
  }, 60_000);

  it('keeps two browser connections apart, even with the same ids', async () => {
    const [sky, forest] = await Promise.all([openPage(), openPage()]);
    const [skyOutcomes, forestOutcomes] = await Promise.all([
      classifyIn(sky, pageImages('same', 20, COLOURS[0])),
      classifyIn(forest, pageImages('same', 20, COLOURS[1])),
    ]);
    const results = (outcomes: PageOutcome[]) => new Set(outcomes.map((o) => o.result));
    expect(skyOutcomes.map((o) => o.id).sort()).toEqual(forestOutcomes.map((o) => o.id).sort());
    expect(results(skyOutcomes).size).toBe(1);
    expect(results(forestOutcomes).size).toBe(1);
    expect([...results(skyOutcomes)][0]).not.toBe([...results(forestOutcomes)][0]);
    await Promise.all([sky.close(), forest.close()]);
  }, 60_000);
});
