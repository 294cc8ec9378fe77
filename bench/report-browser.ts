/**
 * Section 11 of the report, browser preparation: its tables, its lines in the Targets table, and
 * the splice that writes them into an existing report (`--only browser`, and after a full run).
 */
import { replaceSection, table } from './markdown.js';
import { type BrowserResult } from './browser.js';
import { fmt } from './stats.js';

export const BROWSER_HEADING = '## 11. Browser preparation';
/** The Targets rows of this section start with this (and no other line of the report does). */
const TARGET_PREFIX = '| in the browser, ';

/** The section's text; `failure` instead when the measurement did not run. */
export function renderBrowserSection(
  result: BrowserResult | undefined,
  context: { startedAt: string; load: string; failure?: string },
): string {
  const lines = [BROWSER_HEADING, ''];
  if (result === undefined) {
    lines.push(`Not measured on ${context.startedAt}: ${context.failure ?? 'unknown failure'}.`);
    return lines.join('\n');
  }
  const node = (parallel: number): number =>
    result.rows.find((r) => r.path === 'node' && r.parallel === parallel)?.imagesPerSecond ?? Number.NaN;
  lines.push(
    `Measured on ${context.startedAt} (load average ${context.load}, 2 cores shared with other work, so` +
      ` treat the figures as relative). Headless Chromium ${result.chromium} from Debian's package, driven by` +
      ` playwright-core; the page of \`spec/browser/page/\` bundled with esbuild reads the ${result.images}` +
      ` corpus photos as \`File\`s with \`fromFileList\` and prepares them with \`resize\` from` +
      ` \`athena-rx/browser\` (no hashing), ${result.rounds} rounds, the variants interleaved. A browser pass` +
      ` includes starting its workers and instantiating the decoders (a new pool per subscription); the Node` +
      ` path is \`prepareImage\` (sharp) on the same bytes in memory with 1 and 4 calls in flight.`,
    '',
    table(
      ['path', 'workers / in flight', 'images/s (median)', 'vs Node at the same parallelism', 'rounds'],
      result.rows.map((r) => [
        r.path,
        String(r.parallel),
        fmt(r.imagesPerSecond, 2),
        r.path === 'node' ? '1.00x' : `${fmt(r.imagesPerSecond / node(r.parallel), 2)}x`,
        r.rounds.map((v) => fmt(v, 2)).join(', '),
      ]),
    ),
    '',
    `Exactness: in exact mode ${result.images - result.exactDiffering.length} of ${result.images} images are` +
      ` byte-identical to the Node path's 602,112 bytes` +
      (result.exactDiffering.length === 0 ? '.' : `; differing: ${result.exactDiffering.join(', ')}.`),
    '',
    'Fast mode (`createImageBitmap`, then the same bilinear step) against the Node path, per image, in grey levels:',
    '',
    table(
      ['image', 'max difference', 'mean difference', 'bytes differing'],
      [...result.fastDrift]
        .sort((a, b) => a.ref.localeCompare(b.ref))
        .map((o) =>
          o.kind === 'image'
            ? [o.ref, String(o.maxDiff), fmt(o.meanDiff ?? Number.NaN, 3), String(o.differing)]
            : [o.ref, `failed: ${o.code ?? ''}`, '', ''],
        ),
    ),
  );
  return lines.join('\n');
}

/** The section's rows of the Targets table. */
export function browserTargetRows(result: BrowserResult | undefined): string[] {
  if (result === undefined)
    return [
      `${TARGET_PREFIX}exact mode: prepared bytes equal the Node path's | **NOT CHECKED** | the browser step did not run |`,
    ];
  const fastest = (path: string, parallel: number): string =>
    fmt(
      result.rows.find((r) => r.path === path && r.parallel === parallel)?.imagesPerSecond ?? Number.NaN,
      2,
    );
  const drift = result.fastDrift.filter((o) => o.kind === 'image');
  const worst = Math.max(0, ...drift.map((o) => o.maxDiff ?? 0));
  return [
    `${TARGET_PREFIX}exact mode: prepared bytes equal the Node path's (max difference 0) | ` +
      `**${result.exactDiffering.length === 0 ? 'MET' : 'NOT MET'}** | ` +
      `${result.images - result.exactDiffering.length} of ${result.images} corpus images identical |`,
    `${TARGET_PREFIX}preparation speed, 1 and 4 workers, beside Node | **INFO** | exact ${fastest('browser exact', 1)} / ` +
      `${fastest('browser exact', 4)} images/s, fast ${fastest('browser fast', 1)} / ${fastest('browser fast', 4)}, ` +
      `Node ${fastest('node', 1)} / ${fastest('node', 4)} |`,
    `${TARGET_PREFIX}fast mode drift from the Node path | **INFO** | max ${worst}, ` +
      `${drift.filter((o) => (o.maxDiff ?? 0) > 0).length} of ${drift.length} images differ |`,
  ];
}

/** `report` with the section (replaced, or appended) and its Targets rows (replaced, or added). */
export function spliceBrowser(report: string, section: string, targetRows: readonly string[]): string {
  const text = replaceSection(report, BROWSER_HEADING, section);
  const lines = text.split('\n').filter((line) => !line.startsWith(TARGET_PREFIX));
  const targets = lines.indexOf('## Targets');
  if (targets < 0) return lines.join('\n');
  let end = targets + 1;
  while (end < lines.length && (lines[end] === '' || !lines[end]!.startsWith('|'))) end++;
  while (end < lines.length && lines[end]!.startsWith('|')) end++;
  lines.splice(end, 0, ...targetRows);
  return lines.join('\n');
}
