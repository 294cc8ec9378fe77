import { describe, expect, it } from 'vitest';
import { type BrowserResult } from '../../bench/browser.js';
import { browserTargetRows, renderBrowserSection, spliceBrowser } from '../../bench/report-browser.js';

const REPORT = `# Performance

## Targets

| target | status | measured |
|---|---|---|
| exact mode, 2 in flight | **MET** | 1.10x |

## Machine and settings

text

## 8. Faults

fault text
`;

function result(imagesPerSecond: number, drift: number): BrowserResult {
  const rows = ['node', 'browser exact', 'browser fast'].flatMap((path) =>
    [1, 4].map((parallel) => ({ path, parallel, imagesPerSecond, rounds: [imagesPerSecond] })),
  );
  return {
    chromium: '1.0',
    images: 2,
    rounds: 1,
    rows,
    exactDiffering: [],
    fastDrift: [
      { ref: 'b.png', kind: 'image', maxDiff: drift, meanDiff: 0.5, differing: 10 },
      { ref: 'a.jpg', kind: 'image', maxDiff: 0, meanDiff: 0, differing: 0 },
    ],
  };
}

const splice = (report: string, r: BrowserResult): string =>
  spliceBrowser(report, renderBrowserSection(r, { startedAt: 'now', load: '1 1 1' }), browserTargetRows(r));

describe('bench section 11 in the report', () => {
  it('appends the section with every row of its tables, and adds its lines to the Targets table', () => {
    const out = splice(REPORT, result(2.5, 7));
    const section = out.slice(out.indexOf('## 11. Browser preparation'));
    for (const path of ['node', 'browser exact', 'browser fast'])
      expect(section.match(new RegExp(`^\\| ${path} \\| [14] \\|`, 'gm'))).toHaveLength(2);
    expect(section.indexOf('| a.jpg |')).toBeLessThan(section.indexOf('| b.png |'));
    const targets = out.slice(out.indexOf('## Targets'), out.indexOf('## Machine'));
    expect(targets.match(/^\| in the browser, /gm)).toHaveLength(3);
    expect(targets).toContain('| exact mode, 2 in flight |');
    expect(targets).toContain('max 7, 1 of 2 images differ');
    expect(out).toContain('## 8. Faults\n\nfault text');
  });

  it('replaces its section and its Targets lines when run again, leaving the rest as it was', () => {
    const once = splice(REPORT, result(2.5, 7));
    const twice = splice(once, result(9.25, 3));
    expect(twice.match(/## 11\. Browser preparation/g)).toHaveLength(1);
    expect(twice.match(/^\| in the browser, /gm)).toHaveLength(3);
    expect(twice).toContain('| node | 1 | 9.25 |');
    expect(twice).not.toContain('| node | 1 | 2.50 |');
    expect(twice.slice(0, twice.indexOf('## Targets'))).toBe(REPORT.slice(0, REPORT.indexOf('## Targets')));
  });
});
