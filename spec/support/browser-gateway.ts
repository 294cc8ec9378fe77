/**
 * Helpers of the Chromium gateway spec: Debian's Chromium (launched as in `browser.ts`), and a test
 * page bundled with esbuild for the browser. A missing Chromium skips the
 * spec on a developer machine and fails it in CI (`CI` set).
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { HAVE_CHROMIUM, launchChromium } from './browser.js';

/** Whether the Chromium spec runs: always in CI (where a missing Chromium must fail it). */
export const RUN_CHROMIUM = HAVE_CHROMIUM || Boolean(process.env['CI']);

export { launchChromium };

/** Bundles a page module for the browser, marking nothing external: a Node import fails the build. */
export async function bundlePage(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const [file] = result.outputFiles;
  if (file === undefined) throw new Error(`esbuild wrote nothing for ${entry}`);
  return file.text;
}
