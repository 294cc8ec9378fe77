/**
 * Section 5 of the report, memory over a long run: its method, the table of runs, each run's
 * breakdown at the peak and its samples, and the splice that writes this section and its Targets
 * rows alone into an existing report (`--only memory`).
 */
import { CLI_BATCH_SIZE, CLI_MAX_PIXELS_IN_FLIGHT, CLI_WINDOW } from '../src/cli/defaults.js';
import { replaceSection, table } from './markdown.js';
import { type MemoryResult } from './memory.js';
import { CLI_DEFAULTS, LIBRARY_DEFAULTS } from './memory-runs.js';
import { CLI_FORMER, pairRatio } from './memory-pairs.js';
import { compiled } from './paths.js';
import { type BenchResults } from './results.js';
import { checkTargets, FLAT_MB_PER_MIN, type TargetCheck } from './targets.js';
import { fmt, sparkline } from './stats.js';

export const MEMORY_HEADING = '## 5. Memory over a long run';

/** The body of section 5. */
export function renderMemory(r: BenchResults): string {
  const runs = r.memory;
  if (!runs || runs.length === 0) return 'Skipped (no corpus, no server or the step failed; see the note).';
  const lib = runs.find((x) => x.label === LIBRARY_DEFAULTS)?.result ?? runs[0]!.result;
  return [
    `Method: ${lib.images} paths, the corpus cycled, against the server process, each run in a fresh process ` +
      "(so the RSS is the run's alone, not what steps 1 to 4 left behind), one after the other. " +
      `"${CLI_DEFAULTS}": the command exactly as a user runs it, the package's \`bin\` ` +
      `(\`dist/cli/bin.js\`, or \`src/cli/bin.ts\` under tsx when nothing is built) with \`classify --address A --insecure ` +
      '--affiliate bench --format jsonl --no-progress --from-file LIST`, nothing else set (the variables that would ' +
      'change its defaults, such as `GLIBC_TUNABLES`, `MALLOC_*` and `ATHENA_*`, are left out of its environment): on ' +
      'glibc Linux it starts itself again in a child with the malloc tunables of `src/cli/relaunch.ts` (and on Node 20 ' +
      'the flag that gives it `ArrayBuffer.prototype.transfer`, so decoded pixels are freed as soon as they are read; ' +
      "and V8's heap flags of the same file: 4 MB semi-spaces, an old generation from 48 MB), with each file's bytes " +
      'detached once its image is resized (`releaseInput`), ' +
      'and decodes under the defaults of `src/cli/defaults.ts` (a budget of ' +
      `${CLI_MAX_PIXELS_IN_FLIGHT / 1e6} million pixels' worth of decoder memory, each image charged by its header ` +
      '(a progressive JPEG twice its pixels or more, a WebP 10/3 of them), twice as many images as cores in hand, a window of ' +
      `${CLI_WINDOW} and batches of ${CLI_BATCH_SIZE}); its RSS is the child's plus the launcher's private pages, ` +
      "read from /proc every second, and its peak the larger of those samples and the child's high-water mark " +
      "(`VmHWM`, which no sampling misses) plus the launcher's private pages; " +
      'heap figures are not visible from outside. ' +
      `"library defaults": the full pipeline of step 4 (mode \`${lib.settings.mode}\`, ` +
      `${lib.settings.inFlight} in flight, quality ${lib.settings.quality}) from an async generator through \`fromFiles\`, ` +
      `${compiled ? 'the compiled JavaScript under plain Node, as users run the library' : 'under tsx, whose loader adds about 30 MB'}, ` +
      'every setting as it comes, glibc malloc included, `process.memoryUsage()` sampled every second. ' +
      '"memory-bounded": the deployment docs/flow-control.md describes for memory-limited hosts: ' +
      '`resize({ maxPixelsInFlight })`, a window of 16 with batches of 16 (so one request and its encoded copies are ' +
      'half the size), and the same glibc tunables as the command. The tunables: the mmap threshold pinned to 1 MiB ' +
      '(glibc raises it to the size of every large block freed, up to 32 MiB, so after the first multi-megapixel ' +
      'decode the ~30 MB pixel buffers come from heap arenas whose pages it keeps after free; pinned, each is mmapped ' +
      'and given back when freed, while the many blocks under 1 MiB are reused from the arenas), transparent huge ' +
      'pages for those mappings (most of the page-fault cost back) and ' +
      `two arenas. "Flat" means a least-squares RSS slope over the second half within ±${FLAT_MB_PER_MIN} MB/min.`,
    '',
    table(
      [
        'configuration',
        'images',
        'min',
        'images/s',
        'failed',
        'peak RSS MB',
        'RSS mid / end MB',
        'RSS slope 2nd half MB/min',
        'peak heap MB',
        'heap slope MB/min',
        'server peak RSS MB',
      ],
      runs.map(({ label, env, result: m }) => [
        env ? `${label} (\`${env}\`)` : label,
        String(m.images),
        fmt(m.wallS / 60),
        fmt(m.imagesPerSecond),
        String(m.tally.failed),
        `**${fmt(m.peakRssMb)}**${(m.processes ?? 1) > 1 ? ` (${m.processes} processes; RSS sum ${fmt(m.peakRssSumMb ?? NaN)})` : ''}`,
        `${fmt(m.rssMidMb)} / ${fmt(m.rssEndMb)}`,
        `**${fmt(m.rssSlopeMbPerMin, 2)}**`,
        Number.isNaN(m.peakHeapMb) ? '-' : fmt(m.peakHeapMb),
        Number.isNaN(m.heapSlopeMbPerMin) ? '-' : fmt(m.heapSlopeMbPerMin, 2),
        fmt(m.serverPeakRssMb ?? NaN),
      ]),
    ),
    ...pairsSection(r),
    ...runs.flatMap(({ label, result: m }) => memoryRun(label, m)),
  ].join('\n');
}

/** The throughput pairs: the command with every default against its former defaults. */
function pairsSection(r: BenchResults): string[] {
  const p = r.memoryPairs;
  if (!p || p.pairs.length === 0) return [];
  return [
    '',
    `Throughput against the command's former defaults: ${CLI_FORMER}, that is one process with the allocator as it ` +
      'comes, no pixel budget, a decode per core, windows and batches of 32 (the defaults before the command bounded ' +
      `its memory). ${p.pairs.length} pairs of ${p.images} images, each side a fresh \`athena-rx classify\` as above, ` +
      "run back to back with the order alternating, so that the machine's drift falls on both sides alike; the " +
      `ratio is the median over the pairs: **${fmt(pairRatio(p), 2)}x**.`,
    '',
    table(
      ['pair', 'first', 'defaults images/s', 'former defaults images/s', 'ratio'],
      p.pairs.map((x, i) => [
        String(i + 1),
        x.formerFirst ? 'former' : 'defaults',
        fmt(x.defaults),
        fmt(x.former),
        fmt(x.defaults / x.former, 2),
      ]),
    ),
  ];
}

function memoryRun(label: string, m: MemoryResult): string[] {
  const peak = m.samples.reduce((a, x) => (x.rssMb > a.rssMb ? x : a), m.samples[0]!);
  const base = m.samples[0]!;
  const step = Math.max(1, Math.ceil(m.samples.length / 16));
  const picked = m.samples.filter((_, i) => i % step === 0 || i === m.samples.length - 1);
  const inside = !Number.isNaN(peak.heapUsedMb);
  const breakdown = inside
    ? `${label}: at the peak (t = ${fmt(peak.t, 0)} s) RSS ${fmt(peak.rssMb)} MB = ${fmt(base.rssMb)} MB at start ` +
      `(Node, sharp/libvips, gRPC loaded) + heap growth ${fmt(peak.heapUsedMb - base.heapUsedMb)} MB + external ` +
      `(Buffers: file bytes in the window, decoded pixels not yet collected, prepared and compressed images) ` +
      `${fmt(peak.externalMb - base.externalMb)} MB + the rest ${fmt(peak.rssMb - base.rssMb - (peak.heapUsedMb - base.heapUsedMb) - (peak.externalMb - base.externalMb))} ` +
      'MB (libvips working memory, such as the whole-image coefficient buffer of a progressive JPEG, V8 heap not in ' +
      'use, and allocator pages kept after free). RSS and heap over the run (each character a time slice; scale from 0 ' +
      'to the peak)'
    : `${label}: the peak, ${fmt(peak.rssMb)} MB resident over ${m.processes ?? 1} processes (the RSS of the ` +
      "process that decodes plus the launcher's private pages; the launcher's Node binary and libraries are the " +
      `pages the child maps too), at t = ${fmt(peak.t, 0)} s (${fmt(base.rssMb)} MB at the first sample, 1 s in); ` +
      `the plain sum of both processes' RSS, which counts those shared pages twice, peaked at ` +
      `${fmt(m.peakRssSumMb ?? NaN)} MB. RSS over the run (each character a time slice; scale from 0 to the peak)`;
  return [
    '',
    breakdown + (m.tally.firstFailure ? `; first failure: ${m.tally.firstFailure}` : ''),
    '',
    '```text',
    `RSS  ${sparkline(
      m.samples.map((s) => s.rssMb),
      60,
      0,
    )}  0..${fmt(m.peakRssMb, 0)} MB`,
    ...(inside
      ? [
          `heap ${sparkline(
            m.samples.map((s) => s.heapUsedMb),
            60,
            0,
          )}  0..${fmt(m.peakHeapMb, 0)} MB`,
        ]
      : []),
    '```',
    '',
    table(
      ['t (s)', 'images done', 'RSS MB', 'heap MB', 'external MB (Buffers included)', 'server RSS MB'],
      picked.map((s) => [
        fmt(s.t, 0),
        String(s.done),
        fmt(s.rssMb) + (s.rssSumMb === undefined ? '' : ` (sum ${fmt(s.rssSumMb)})`),
        inside ? fmt(s.heapUsedMb) : '-',
        inside ? fmt(s.externalMb) : '-',
        fmt(s.serverRssMb ?? NaN),
      ]),
    ),
  ];
}

/** Whether a Targets row is one of section 5's (written again by `--only memory`). */
const isMemoryTarget = (target: string): boolean => /RSS|`athena-rx classify`/.test(target);

const targetRow = (c: TargetCheck): string => `| ${c.target} | **${c.status}** | ${c.measured} |`;

/**
 * Writes section 5 of `r` into `report` in place of the old one, and its Targets rows in place of
 * the old memory rows (others untouched); a report without them gets them appended.
 */
export function spliceMemory(report: string, r: BenchResults): string {
  const when =
    `Written alone by \`npm run bench -- --only memory\` on ${r.startedAt}; load average (1, 5, 15 min) ` +
    `${r.loadStart} at the start, ${r.loadEnd} at the end.`;
  const section = `${MEMORY_HEADING}\n\n${when}\n\n${renderMemory(r).trim()}${notes(r)}`;
  const out = replaceSection(report, MEMORY_HEADING, section);
  const rows = checkTargets(r)
    .filter((c) => isMemoryTarget(c.target))
    .map(targetRow);
  const lines = out.split('\n');
  const from = lines.indexOf('## Targets');
  const to = lines.findIndex((l, i) => i > from && l.startsWith('## '));
  if (from < 0) return out;
  const end = to < 0 ? lines.length : to;
  const isRow = (l: string, i: number): boolean =>
    i > from && i < end && l.startsWith('| ') && isMemoryTarget(l.split(' | ')[0] ?? '');
  const first = lines.findIndex(isRow);
  const kept = lines.filter((l, i) => !isRow(l, i));
  // No memory rows yet: after the table's last row.
  const at = first >= 0 ? first : kept.findLastIndex((l, i) => i > from && i < end && l.startsWith('|')) + 1;
  kept.splice(at > 0 ? at : from + 1, 0, ...rows);
  return kept.join('\n');
}

function notes(r: BenchResults): string {
  const list = r.notes.get(5);
  return list ? `\n\n${list.map((n) => `> ${n}`).join('\n')}` : '';
}
