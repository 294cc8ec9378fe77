import { table } from './markdown.js';
import { type BrotliRow } from './brotli.js';
import { type E2eResult } from './e2e.js';
import { compiled } from './paths.js';
import { type BenchResults } from './results.js';
import { checkTargets } from './targets.js';
import { fmt } from './stats.js';
import { BATCH_SIZE, BATCH_WAIT_MS } from './pipeline.js';
import { LOOP_RESOLUTION_MS } from './sampler.js';
import { FAULTS_HEADING, renderFaults } from './report-faults.js';
import { renderMemory } from './report-memory.js';
import { renderTelemetry, TELEMETRY_HEADING } from './report-telemetry.js';

/** The section headings every report has, in order (a skipped section says why under its heading). */
export const SECTIONS = [
  '## Targets',
  '## Machine and settings',
  '## 1. Floor: bare decode',
  '## 2. prepareImage: exact and fast modes',
  '## 3. Brotli quality',
  '## 4. End to end',
  '## 5. Memory over a long run',
  '## 6. Event-loop delay',
  '## 7. Transport cost',
  FAULTS_HEADING,
  TELEMETRY_HEADING,
] as const;

/** Renders the report as Markdown. */
export function renderReport(r: BenchResults): string {
  const runsAs = compiled
    ? 'compiled by `tsc -p tsconfig.bench.json` and run under plain Node'
    : 'run under tsx';
  const kind =
    r.config.size === 'full' ? 'full run' : `${r.config.size} run: a subset, figures not representative`;
  const out: string[] = [
    `# Performance (${kind})`,
    '',
    `Written by \`npm run bench${r.config.size === 'full' ? '' : ` -- --${r.config.size}`}\` on ${r.startedAt} in ` +
      `${fmt(r.durationS / 60)} minutes; do not edit by hand. Sources: \`bench/\`, ${runsAs}. A full run (\`npm run bench\`) ` +
      'takes about 45 minutes on this machine and writes this file; `npm run bench -- --quick` (about five minutes, a ' +
      'subset; its fault scenarios wait out faults of the same length) and `-- --smoke` (under a minute) write to a ' +
      'temporary file unless given `--out`; `-- --only faults` runs section 8 alone and `-- --only memory` section 5, each written into the report in place.',
    '',
    `Load average (1, 5, 15 min) at start: ${r.loadStart}; at the end: ${r.loadEnd} (${r.machine.cores} cores). ` +
      'The benchmark keeps both cores busy itself (its own process, the server process, the memory runs), so the end ' +
      'figure includes its own load; the start figure is what else was running. Other processes take CPU from every ' +
      'figure alike, since the variants are interleaved.',
    '',
  ];
  for (const [heading, body] of sections(r)) out.push(renderSection(r, heading, body), '');
  return `${out.join('\n').trim()}\n`;
}

/** One section: its heading, its body and the notes of its step. */
function renderSection(r: BenchResults, heading: string, body: string): string {
  const notes = r.notes.get(SECTIONS.indexOf(heading as (typeof SECTIONS)[number]) - 1);
  return [heading, '', body.trim(), ...(notes ? ['', ...notes.map((n) => `> ${n}`)] : [])].join('\n');
}

/** Section 8 alone, for `--only faults`. */
export function renderFaultsSection(r: BenchResults): string {
  return renderSection(
    r,
    FAULTS_HEADING,
    renderFaults(r.faults, r.machine, `${r.loadStart} at start, ${r.loadEnd} at the end`),
  );
}

/** Section 9 alone, for `--only telemetry`. */
export function renderTelemetrySection(r: BenchResults): string {
  return renderSection(
    r,
    TELEMETRY_HEADING,
    renderTelemetry(r.telemetry, r.machine, `${r.loadStart} at start, ${r.loadEnd} at the end`),
  );
}

function sections(r: BenchResults): [string, string][] {
  return [
    [SECTIONS[0], targets(r)],
    [SECTIONS[1], machine(r)],
    [SECTIONS[2], floor(r)],
    [SECTIONS[3], prepare(r)],
    [SECTIONS[4], brotli(r)],
    [SECTIONS[5], e2e(r)],
    [SECTIONS[6], renderMemory(r)],
    [SECTIONS[7], loop(r)],
    [SECTIONS[8], transport(r)],
    [SECTIONS[9], renderFaults(r.faults, r.machine, `${r.loadStart} at the start of the benchmark`)],
    [SECTIONS[10], renderTelemetry(r.telemetry, r.machine, `${r.loadStart} at the start of the benchmark`)],
  ];
}

function targets(r: BenchResults): string {
  return table(
    ['target', 'status', 'measured'],
    checkTargets(r).map((c) => [c.target, `**${c.status}**`, c.measured]),
  );
}

function machine(r: BenchResults): string {
  const m = r.machine;
  const c = r.corpus;
  return [
    table(
      ['', ''],
      [
        ['CPU', `${m.cpuModel}, ${m.cores} cores`],
        ['memory', `${fmt(m.totalMemGb)} GB (${fmt(m.freeMemGb)} GB free at start)`],
        ['OS', m.os],
        ['source', m.revision],
        ['Node.js', m.node],
        ['sharp / libvips', `${m.sharp} / ${m.libvips} (SIMD ${m.simd ? 'on' : 'off'})`],
        ['sharp concurrency', `${m.sharpConcurrency} libvips thread(s) per image (sharp's default here)`],
        ['sharp cache', `${m.sharpCache} (default)`],
        ['UV_THREADPOOL_SIZE', m.uvThreadpoolSize],
        [
          'server',
          r.server ? `${r.server.how}, separate process, plaintext on ${r.server.address}` : 'not started',
        ],
        [
          'corpus',
          c
            ? `${c.files} files (${c.formats}), ${fmt(c.megabytes)} MB, ${fmt(c.megapixels.min, 2)} to ${fmt(c.megapixels.max, 2)} ` +
              `megapixels (median ${fmt(c.megapixels.median, 2)}), from \`${c.dir}\``
            : `absent (\`${r.config.corpusDir}\`)`,
        ],
      ],
    ),
    '',
    'Method, common to every step: the corpus is read into memory once (steps 1 to 3) or read from the page ' +
      'cache through `fromFiles` (steps 4 and 5). Times are wall-clock `performance.now()`; "ms/image" of one image is ' +
      'its own start-to-end latency, "wall ms/image" is the wall time of a whole pass divided by its images ' +
      '(1000 / images per second), which is what throughput and the ratios use.',
  ].join('\n');
}

function prepRows(r: BenchResults, variants: readonly string[]): string {
  const rows = r.prepare!.rows.filter((x) => variants.includes(x.variant));
  return table(
    [
      'variant',
      'in flight',
      'images',
      'median ms',
      'p95 ms',
      'wall ms/image',
      'images/s',
      'x floor (pooled)',
      'x floor per round: median [min, max]',
    ],
    rows.map((x) => [
      x.variant,
      String(x.inFlight),
      String(x.images),
      fmt(x.medianMs),
      fmt(x.p95Ms),
      fmt(x.wallMsPerImage),
      fmt(x.imagesPerSecond),
      fmt(x.ratioPooled, 2),
      `${fmt(x.ratioRounds.median, 2)} [${fmt(x.ratioRounds.min, 2)}, ${fmt(x.ratioRounds.max, 2)}]`,
    ]),
  );
}

function floor(r: BenchResults): string {
  if (!r.prepare) return 'Skipped (no corpus or the step failed; see the note).';
  return [
    'Method: `sharp(bytes, { autoOrient: true, ignoreIcc: true }).raw().toBuffer()` on every corpus file: the same ' +
      'decoder settings as exact mode, with no header read, colourspace step or resize. Exact mode has to decode every ' +
      'pixel of the original too, so this is its physical limit; JPEG decoding is almost all of its CPU time. Measured in ' +
      `the same ${r.prepare.rounds} rounds as step 2 (see there).`,
    '',
    prepRows(r, ['floor']),
  ].join('\n');
}

function prepare(r: BenchResults): string {
  const p = r.prepare;
  if (!p) return 'Skipped (no corpus or the step failed; see the note).';
  const b = p.breakdown;
  const d = p.drift;
  return [
    `Method: ${p.rounds} rounds; each round times the floor, \`prepareImage(bytes, { mode: 'exact' })\` and ` +
      `\`{ mode: 'fast' }\` over all ${p.corpusImages} corpus files, 1 and 2 images in flight (the order of the variants ` +
      'rotates each round and the order of 1 and 2 alternates), after an untimed warm-up pass. Ratios divide wall ms/image ' +
      "by the floor's at the same concurrency: pooled over all rounds, and round by round against that round's own floor.",
    '',
    prepRows(r, ['floor', 'exact', 'fast']),
    '',
    `Where exact mode's time goes (one image at a time, medians over the corpus; sums in brackets): floor decode ` +
      `${fmt(b.floorMs)} ms (${fmt(b.floorTotalMs)} ms), exact mode's sharp decode ${fmt(b.decodeMs)} ms ` +
      `(${fmt(b.decodeTotalMs)} ms), the OpenCV-exact bilinear stretch (WebAssembly SIMD) on the main thread ` +
      `${fmt(b.bilinearMs)} ms (${fmt(b.bilinearTotalMs)} ms). With 2 in flight on ${r.machine.cores} cores the ` +
      'stretch competes with the decoder threads for the same cores, so it adds to the wall time almost in full; ' +
      'the stretch reads only the source rows it needs, each copied once into the WebAssembly memory. The facts that ' +
      'choose the decode (size, grey, 16-bit, CMYK) come from the JPEG, PNG or WebP header read in JavaScript, not from ' +
      "a sharp probe, which would add a second trip through libuv's thread pool per image.",
    '',
    'Per file, 1 in flight, median over the rounds (ms):',
    '',
    table(
      [
        'file',
        'format',
        'size',
        'progressive',
        'floor',
        'exact',
        'fast',
        'exact / floor',
        'fast / exact',
        'fast drift (mean)',
      ],
      p.perFile.map((f) => [
        f.name,
        f.format,
        `${f.width}x${f.height}`,
        f.format === 'jpeg' ? (f.progressive ? 'yes' : 'no') : '',
        fmt(f.floorMs),
        fmt(f.exactMs),
        fmt(f.fastMs),
        fmt(f.exactMs / f.floorMs, 2),
        fmt(f.fastMs / f.exactMs, 2),
        fmt(f.driftMean, 2),
      ]),
    ),
    '',
    'Fast mode asks libjpeg to decode at 1/2, 1/4 or 1/8 scale. That only shortens the inverse DCT: a progressive JPEG ' +
      'still has all of its scans entropy-decoded into a whole-image coefficient buffer, which is most of its decode time, ' +
      'so fast mode gains little on progressive files.' +
      (p.scanCheck
        ? ` The largest JPEG (${p.scanCheck.source}) re-encoded at quality 90, median of 5 at 1 in flight: ` +
          p.scanCheck.rows
            .map(
              (x) =>
                `${x.progressive ? 'progressive' : 'baseline'} exact ${fmt(x.exactMs)} ms, fast ${fmt(x.fastMs)} ms ` +
                `(${fmt(x.exactMs / x.fastMs, 2)}x)`,
            )
            .join('; ') +
          '.'
        : ''),
    '',
    `Fast mode's drift from exact mode over the corpus (all bytes of all ${d.images} prepared images): max absolute ` +
      `difference ${d.maxAbs}, mean ${fmt(d.meanAbs, 3)} grey levels; ${d.differing} of ${d.images} images differ at all ` +
      `(the others are not JPEG or too small to shrink on load). Worst image: ${d.worst.name}, mean ` +
      `${fmt(d.worst.meanAbs, 2)}, max ${d.worst.maxAbs}.`,
  ].join('\n');
}

function brotli(r: BenchResults): string {
  const rows = r.brotli;
  if (!rows || rows.length === 0) return 'Skipped (no prepared images or the step failed; see the note).';
  const exact1 =
    r.prepare?.rows.find((x) => x.variant === 'exact' && x.inFlight === 1)?.wallMsPerImage ?? NaN;
  const uploadMs = (bytes: number): number => ((bytes * 8) / 100e6) * 1000;
  const body = table(
    [
      'quality',
      'images',
      'median ms',
      'p95 ms',
      'ratio',
      'mean KB',
      'upload ms at 100 Mbit/s',
      '% of exact prepare',
    ],
    rows.map((x) => [
      x.quality === r.defaultQuality ? `**${x.quality}** (default)` : String(x.quality),
      String(x.images),
      fmt(x.medianMs),
      fmt(x.p95Ms),
      fmt(x.ratio, 3),
      fmt(x.meanBytes / 1024),
      fmt(uploadMs(x.meanBytes)),
      fmt((x.medianMs / exact1) * 100, 0),
    ]),
  );
  return [
    'Method: `brotliCompressSync` with the quality and the size hint `compress()` uses, one image at a time on the main ' +
      'thread (so each figure is the CPU of one image on one core), on the exact-mode outputs (602,112 bytes each), images ' +
      'spread over the corpus; qualities 10 and 11 on a few images only. "% of exact prepare" compares with exact ' +
      "mode's wall ms/image at 1 in flight.",
    '',
    body,
    '',
    justify(rows, r.defaultQuality, exact1),
  ].join('\n');
}

function justify(rows: readonly BrotliRow[], q: number, exactMs: number): string {
  const d = rows.find((x) => x.quality === q);
  const q0 = rows.find((x) => x.quality === 0);
  const q5 = rows.find((x) => x.quality === 5);
  if (!d) return `The default quality ${q} was not measured in this run.`;
  const parts = [
    `The default quality of \`compress()\` is ${q} (\`DEFAULT_BROTLI_QUALITY\`): ${fmt(d.medianMs)} ms an image, ` +
      `${fmt((d.medianMs / exactMs) * 100, 0)}% of exact preparation, for a ratio of ${fmt(d.ratio, 3)}.`,
  ];
  if (q0)
    parts.push(
      `Quality 0 saves ${fmt(d.medianMs - q0.medianMs)} ms but sends ${fmt((q0.meanBytes - d.meanBytes) / 1024)} KB more an image.`,
    );
  if (q5) {
    parts.push(
      `Quality 5 saves a further ${fmt((d.meanBytes - q5.meanBytes) / 1024)} KB an image ` +
        `(${fmt(((d.meanBytes - q5.meanBytes) * 8) / 1e5)} ms of upload at 100 Mbit/s) for ` +
        `${fmt(q5.medianMs - d.medianMs)} ms more CPU; on a 2-core client that CPU comes out of decoding, so a higher ` +
        'quality pays only when the uplink, not the CPU, is the bottleneck.',
    );
  }
  return parts.join(' ');
}

function e2e(r: BenchResults): string {
  const e = r.e2e;
  if (!e) return 'Skipped (no corpus, no server or the step failed; see the note).';
  const s = e.settings;
  return [
    'Method: `fromFiles` (corpus cycled) -> `hashImage` -> `resize` -> `compress` -> `correlate` -> `batch` -> ' +
      '`classify` against the embedded server in a separate process, versus preparation only (`fromFiles` -> `resize` -> ' +
      `\`releaseLeases\`), each run ${e.imagesPerRun} images, ${e.runs.length / 2} pair(s) alternating which goes first, ` +
      `after an untimed warm-up of both. Settings: resize mode \`${s.mode}\`, ${s.inFlight} in flight, Brotli quality ` +
      `${s.quality}, batches of ${BATCH_SIZE} or ${BATCH_WAIT_MS} ms, every other option at its default.`,
    '',
    table(
      [
        'run',
        'images',
        'wall s',
        'images/s',
        'client CPU ms/image',
        'server CPU ms/image',
        'loop p99 ms',
        'failed',
      ],
      e.runs.map((x) => [
        x.kind === 'e2e' ? 'end to end' : 'preparation only',
        String(x.images),
        fmt(x.wallMs / 1000, 2),
        fmt(x.imagesPerSecond),
        fmt(x.clientCpuMsPerImage),
        fmt(x.serverCpuMsPerImage),
        x.loop ? fmt(x.loop.p99Ms) : '',
        String(x.tally.failed),
      ]),
    ),
    '',
    `Pooled: end to end ${fmt(e.e2eImagesPerSecond)} images/s, preparation only ${fmt(e.prepareImagesPerSecond)} ` +
      `images/s, ratio **${fmt(e.ratio, 3)}** (pair by pair: median ${fmt(e.ratioPairs.median, 3)}, ` +
      `${fmt(e.ratioPairs.min, 3)} to ${fmt(e.ratioPairs.max, 3)}). Step 2's exact mode at 2 in flight, from memory: ` +
      `${fmt(r.prepare?.rows.find((x) => x.variant === s.mode && x.inFlight === s.inFlight)?.imagesPerSecond ?? NaN)} images/s.`,
    '',
    cpuBudget(e, r.machine.cores) + (e.firstFailure ? ` First failure: ${e.firstFailure}` : ''),
  ].join('\n');
}

/** Where the end-to-end CPU goes, and the throughput the cores allow at that cost. */
function cpuBudget(e: E2eResult, cores: number): string {
  const extra = e.clientCpuMsPerImage - e.prepareCpuMsPerImage;
  const total = e.clientCpuMsPerImage + e.serverCpuMsPerImage;
  return (
    `CPU per image (all threads, from \`process.cpuUsage()\` and the server's /proc): preparation only ` +
    `${fmt(e.prepareCpuMsPerImage)} ms; end to end ${fmt(e.clientCpuMsPerImage)} ms in this process ` +
    `(${fmt(extra)} ms more: hashing, Brotli, correlation, batching, gRPC) plus ${fmt(e.serverCpuMsPerImage)} ms in ` +
    `the server process (Brotli decompression, decoding the request, classifying), which shares the same ${cores} ` +
    `cores here. With the cores saturated, throughput follows CPU per image: ${cores} cores / ` +
    `${fmt(e.prepareCpuMsPerImage)} ms = ${fmt((cores * 1000) / e.prepareCpuMsPerImage)} images/s against ` +
    `${cores} cores / ${fmt(total)} ms = ${fmt((cores * 1000) / total)} images/s, a ratio of ` +
    `${fmt(e.prepareCpuMsPerImage / total, 3)}; without the server on the same machine it would be ` +
    `${fmt(e.prepareCpuMsPerImage / e.clientCpuMsPerImage, 3)}.`
  );
}

function loop(r: BenchResults): string {
  const e = r.e2e;
  if (!e) return 'Skipped (no end-to-end run).';
  const runs = e.runs.filter((x) => x.loop !== undefined);
  return [
    `Method: a fresh \`perf_hooks.monitorEventLoopDelay({ resolution: ${LOOP_RESOLUTION_MS} })\` during each timed ` +
      'end-to-end run of step 4 (a monitor enabled again after a pause would count the pause as one delay); the ' +
      `histogram holds whole timer intervals, so the ${LOOP_RESOLUTION_MS} ms resolution is subtracted. Over all runs: ` +
      "p50 is the median of the runs' p50, p99 and max the largest of the runs'.",
    '',
    table(
      ['run', 'p50 ms', 'p99 ms', 'mean ms', 'max ms'],
      [
        ...runs.map((x, i) => [
          `end to end #${i + 1}`,
          fmt(x.loop!.p50Ms),
          fmt(x.loop!.p99Ms),
          fmt(x.loop!.meanMs),
          fmt(x.loop!.maxMs),
        ]),
        [
          '**all runs**',
          fmt(e.loop.p50Ms),
          `**${fmt(e.loop.p99Ms)}**`,
          fmt(e.loop.meanMs),
          fmt(e.loop.maxMs),
        ],
      ],
    ),
    '',
    'What runs on the main thread per image: MD5 and SHA1 of the original ' +
      `file (\`hashImage\`), the exact bilinear stretch (${r.prepare ? `median ${fmt(r.prepare.breakdown.bilinearMs)} ms, ` : ''}` +
      'longest on the largest photos), and encoding each batch of 32 into one protobuf message; file reads, decoding and Brotli ' +
      'run on the libuv threadpool.',
  ].join('\n');
}

function transport(r: BenchResults): string {
  const t = r.transport;
  if (!t) return 'Skipped (no server or the step failed; see the note).';
  return [
    `Method: ${t.images} raw 602,112-byte items made in memory (\`fromBuffers\`, format set to ` +
      '`IMAGE_FORMAT_RAW_UINT8_BGR`, uncompressed) -> `correlate` -> `batch` -> `classify` to the server process, after a ' +
      'warm-up of 64 on the same client; `process.cpuUsage()` around the run divided by the images.',
    '',
    table(
      [
        'images',
        'wall s',
        'images/s',
        'client CPU ms/image',
        'user',
        'system',
        'server CPU ms/image',
        'failed',
      ],
      [
        [
          String(t.images),
          fmt(t.wallMs / 1000, 2),
          fmt(t.imagesPerSecond),
          `**${fmt(t.clientCpuMsPerImage, 2)}**`,
          fmt(t.clientUserMsPerImage, 2),
          fmt(t.clientSystemMsPerImage, 2),
          fmt(t.serverCpuMsPerImage, 2),
          String(t.tally.failed),
        ],
      ],
    ),
  ].join('\n');
}
