import { describe, expect, it } from 'vitest';
import { type MemoryResult, type MemoryRun } from '../../bench/memory.js';
import { CLI_DEFAULTS, LIBRARY_DEFAULTS } from '../../bench/memory-runs.js';
import { type ThroughputPairs } from '../../bench/memory-pairs.js';
import { spliceMemory } from '../../bench/report-memory.js';
import { type BenchResults } from '../../bench/results.js';
import { checkTargets } from '../../bench/targets.js';

function result(peakRssMb: number, imagesPerSecond: number, extra: Partial<MemoryResult> = {}): MemoryResult {
  const samples = [0, 1, 2].map((t) => ({
    t,
    rssMb: t === 1 ? peakRssMb : 100,
    heapUsedMb: 10,
    externalMb: 5,
    done: t * 10,
    serverRssMb: 120,
  }));
  return {
    settings: { mode: 'exact', inFlight: 2, quality: 2 },
    images: 20_000,
    wallS: 20_000 / imagesPerSecond,
    imagesPerSecond,
    samples,
    peakRssMb,
    peakHeapMb: 10,
    rssSlopeMbPerMin: 0.1,
    heapSlopeMbPerMin: 0,
    rssMidMb: 100,
    rssEndMb: 100,
    serverPeakRssMb: 120,
    tally: { ok: 20_000, failed: 0 },
    ...extra,
  };
}

/** The command's run, the library's, and throughput pairs of the command against its former defaults. */
function results(
  cli: MemoryResult,
  lib: MemoryResult,
  pairs: readonly [number, number][] = [],
): BenchResults {
  const memory: MemoryRun[] = [
    { label: CLI_DEFAULTS, env: '', result: cli },
    { label: LIBRARY_DEFAULTS, env: '', result: lib },
  ];
  const memoryPairs: ThroughputPairs = {
    images: 1000,
    pairs: pairs.map(([defaults, former], i) => ({ defaults, former, formerFirst: i % 2 === 1 })),
  };
  return { memory, memoryPairs, notes: new Map(), defaultQuality: 2 } as unknown as BenchResults;
}

const report = [
  '# Performance (full run)',
  '',
  '## Targets',
  '',
  '| target | status | measured |',
  '|---|---|---|',
  '| exact mode, 2 in flight: at most 1.15x the floor | **MET** | 1.10x |',
  '| peak RSS under 300 MB for 20000 images, defaults | **NOT MET** | 816.5 MB peak over 20000 images |',
  '| RSS flat over the second half (|slope| <= 1 MB/min), defaults | **MET** | 0.37 MB/min |',
  '| event-loop delay p99 under 50 ms during end to end | **MET** | p99 22.2 ms |',
  '',
  '## 4. End to end',
  '',
  'untouched four',
  '',
  '## 5. Memory over a long run',
  '',
  'old memory text',
  '',
  '## 6. Event-loop delay',
  '',
  'untouched six',
  '',
].join('\n');

describe('spliceMemory', () => {
  it('replaces section 5 and the memory rows of Targets, and nothing else', () => {
    const out = spliceMemory(
      report,
      results(result(280, 24, { processes: 2, peakRssSumMb: 318 }), result(800, 26), [
        [19, 20],
        [18, 21],
        [20, 21],
      ]),
    );
    expect(out).not.toContain('old memory text');
    expect(out).not.toContain('816.5 MB');
    for (const kept of ['untouched four', 'untouched six', '1.10x', 'p99 22.2 ms'])
      expect(out).toContain(kept);
    const targets = out.slice(out.indexOf('## Targets'), out.indexOf('## 4.'));
    expect(targets).toMatch(
      /\| default `athena-rx classify`: peak RSS under 300 MB .* \| \*\*MET\*\* \| 280\.0 MB peak .*throughput 0\.95x the former defaults' \(median of 3 pairs of 1000 images\)/,
    );
    // Memory rows stay where the old ones were: after the first target, before the event loop's.
    expect(targets.indexOf('1.10x')).toBeLessThan(targets.indexOf('athena-rx classify'));
    expect(targets.indexOf('athena-rx classify')).toBeLessThan(targets.indexOf('p99 22.2 ms'));
    const section = out.slice(out.indexOf('## 5. Memory'), out.indexOf('## 6.'));
    expect(section).toContain('| CLI defaults: `athena-rx classify`, nothing set | 20000 |');
    expect(section).toContain('**280.0** (2 processes; RSS sum 318.0)');
    expect(section).toContain('| 2 | former | 18.0 | 21.0 | 0.86 |');
    expect(section).toContain('the ratio is the median over the pairs: **0.95x**');
  });

  it('judges the command on both the peak and the median throughput of the pairs', () => {
    const verdict = (cli: MemoryResult, pairs: readonly [number, number][]): string | undefined =>
      checkTargets(results(cli, result(800, 26), pairs)).find((c) =>
        c.target.startsWith('default `athena-rx classify`'),
      )?.status;
    const fast: [number, number][] = [
      [19, 20],
      [15, 20],
      [20, 21],
    ];
    expect(verdict(result(280, 24), fast)).toBe('MET');
    expect(verdict(result(310, 24), fast)).toBe('NOT MET');
    // One pair at 0.95 does not carry two at 0.85.
    const slow: [number, number][] = [
      [17, 20],
      [19, 20],
      [17, 20],
    ];
    expect(verdict(result(280, 24), slow)).toBe('NOT MET');
    expect(verdict(result(280, 24), [])).toBe('NOT CHECKED');
    expect(verdict(result(280, 24, { images: 3000 }), fast)).toBe('NOT CHECKED');
  });
});
