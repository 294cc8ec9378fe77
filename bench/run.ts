/**
 * `npm run bench`: measures preparation against the decode floor, Brotli qualities, the whole
 * pipeline against a server in another process, memory over a long run, event-loop delay and the
 * transport's CPU cost, what classify does through server restarts, stalls and error storms, and
 * what telemetry costs, and writes the figures to docs/performance.md (see `--help`).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import sharp from 'sharp';
import { DEFAULT_BROTLI_QUALITY } from '../src/operators/compress.js';
import { measureBrotli } from './brotli.js';
import { measureBrowser, type BrowserResult } from './browser.js';
import { benchConfig } from './config.js';
import { defaultCorpusDir, loadCorpus, type CorpusFile } from './corpus.js';
import { measureE2e, type PipelineSettings } from './e2e.js';
import { measureFaults } from './faults.js';
import { loadAverage, machineInfo } from './machine.js';
import { runMemoryVariants } from './memory-runs.js';
import { measureThroughputPairs } from './memory-pairs.js';
import { type MemoryRun } from './memory.js';
import { repoRoot } from './paths.js';
import { measurePrepare } from './prepare.js';
import { renderFaultsSection, renderReport, renderTelemetrySection } from './report.js';
import { faultVerdicts, spliceFaults } from './report-faults.js';
import { spliceMemory } from './report-memory.js';
import { spliceTelemetry, spliceTelemetryTarget, telemetryTarget } from './report-telemetry.js';
import { measureTelemetry, type TelemetryResult } from './telemetry.js';
import { renderScaleOutSection, spliceScaleOut } from './report-scale-out.js';
import { measureScaleOut, type ScaleOutResults } from './scale-out.js';
import { browserTargetRows, renderBrowserSection, spliceBrowser } from './report-browser.js';
import { checkTargets } from './targets.js';
import { note, type BenchResults, type CorpusSummary } from './results.js';
import { startServerProcess, type ServerProcess } from './server.js';
import { median, now } from './stats.js';
import { measureTransport, syntheticImage } from './transport.js';

const config = benchConfig(process.argv.slice(2), repoRoot, defaultCorpusDir(repoRoot));
const log = (text: string): void =>
  void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);

const started = now();
const results: BenchResults = {
  config,
  machine: machineInfo(repoRoot),
  loadStart: loadAverage(),
  loadEnd: '',
  startedAt: new Date().toISOString(),
  durationS: 0,
  defaultQuality: DEFAULT_BROTLI_QUALITY,
  notes: new Map(),
};

/** Runs one section; a failure is written into the report instead of ending the run. */
async function section<T>(n: number, name: string, work: () => Promise<T>): Promise<T | undefined> {
  log(`${n}. ${name}`);
  try {
    return await work();
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    note(results, n, `This step failed: ${message}`);
    log(`${n}. ${name} failed: ${error instanceof Error ? (error.stack ?? message) : message}`);
    return undefined;
  }
}

const out = extname(config.out) === '' ? `${config.out}.md` : config.out;
log(
  `${config.size} run${config.only ? ` (${config.only} only)` : ''}, load ${results.loadStart}, writing ${config.out}`,
);
if (config.only === undefined) await allSections();
if (config.only === 'memory') await memoryOnly();
if (config.only === undefined || config.only === 'faults')
  results.faults = await section(8, `faults: ${config.faults.scenarios.join(', ')}`, () =>
    measureFaults(repoRoot, config.faults.images, config.faults.scenarios, log),
  );
if (config.only === undefined || config.only === 'telemetry')
  results.telemetry = await section(9, 'telemetry cost: off, spans per stream, spans per image', () =>
    telemetrySection(),
  );

results.loadEnd = loadAverage();
results.durationS = (now() - started) / 1000;
if (results.prepare) (results.prepare as { prepared: Uint8Array[] }).prepared = [];
await mkdir(dirname(out), { recursive: true });
if (config.only === 'faults') {
  const before = await readFile(out, 'utf8').catch(() => '# Performance\n');
  await writeFile(out, spliceFaults(before, renderFaultsSection(results)));
} else if (config.only === 'memory') {
  await writeMemoryOnly();
  for (const c of checkTargets(results).filter((c) => /RSS/.test(c.target)))
    log(`${c.status.padEnd(11)} ${c.target}: ${c.measured}`);
} else if (config.only === 'telemetry') {
  const before = await readFile(out, 'utf8').catch(() => '# Performance\n');
  const target = telemetryTarget(results.telemetry);
  await writeFile(
    out,
    spliceTelemetryTarget(spliceTelemetry(before, renderTelemetrySection(results)), target),
  );
  log(`${target.status.padEnd(11)} ${target.target}: ${target.measured}`);
} else if (config.only === 'scale-out') {
  // Written below, into the report as it is.
} else if (config.only === 'browser') {
  await browserSection(out);
} else {
  await writeFile(out, renderReport(results));
  for (const c of checkTargets(results)) log(`${c.status.padEnd(11)} ${c.target}: ${c.measured}`);
  if (config.size === 'full') await browserSection(out);
}
for (const v of results.faults ? faultVerdicts(results.faults) : [])
  log(`${v.status.padEnd(11)} ${v.target}: ${v.measured}`);
// Section 10 spawns a server, Redis and five CLI processes: whole full runs and `--only scale-out` only.
if ((config.size === 'full' && config.only === undefined) || config.only === 'scale-out')
  await scaleOutSection(out);
log(`wrote ${out} in ${((now() - started) / 60_000).toFixed(1)} min; load ${loadAverage()}`);

/** Section 10: classify against one and two queue workers, spliced into the report at `path`. */
async function scaleOutSection(path: string): Promise<void> {
  const files = await loadCorpus(config.corpusDir, config.corpusLimit);
  let measured: ScaleOutResults | undefined;
  let server: ServerProcess | undefined;
  const load = loadAverage();
  try {
    if (files === undefined) throw new Error(`the corpus is absent (${config.corpusDir})`);
    server = await startServerProcess(repoRoot, config.server);
    const s = server;
    measured = await section(10, 'scale-out', () =>
      measureScaleOut(repoRoot, files, s, config.scaleOutImages, log),
    );
  } catch (error) {
    log(`10. scale-out failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await server?.stop();
  }
  const context =
    `${config.size === 'full' ? '' : `A ${config.size} run. `}Load average (1, 5, 15 min) at the start: ${load}; ` +
    `at the end: ${loadAverage()} (${results.machine.cores} cores shared with other work while it ran).`;
  const before = await readFile(path, 'utf8').catch(() => '# Performance\n');
  await writeFile(path, spliceScaleOut(before, renderScaleOutSection(measured, context)));
}

/** Section 9: the corpus through the whole pipeline to a server process of its own, with and without telemetry. */
async function telemetrySection(): Promise<TelemetryResult> {
  const files = await loadCorpus(config.corpusDir, config.corpusLimit);
  if (files === undefined) throw new Error(`the corpus is absent (${config.corpusDir})`);
  const server = await startServerProcess(repoRoot, config.server);
  try {
    const settings: PipelineSettings = { mode: config.mode, inFlight: 2, quality: DEFAULT_BROTLI_QUALITY };
    return await measureTelemetry(files, server, settings, config.telemetry, log);
  } finally {
    await server.stop();
  }
}

/** Section 11, browser preparation, measured and spliced into the report at `out`. */
async function browserSection(out: string): Promise<void> {
  log('11. browser preparation');
  const startedAt = new Date().toISOString();
  const load = loadAverage();
  let result: BrowserResult | undefined;
  let failure: string | undefined;
  try {
    const files = await loadCorpus(config.corpusDir, config.corpusLimit);
    if (files === undefined) throw new Error(`the corpus is absent (${config.corpusDir})`);
    result = await measureBrowser(repoRoot, files, config.browserRounds, log);
  } catch (error) {
    failure = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    log(`11. browser preparation failed: ${error instanceof Error ? (error.stack ?? failure) : failure}`);
  }
  const before = await readFile(out, 'utf8').catch(() => '# Performance\n');
  const section = renderBrowserSection(result, { startedAt, load, failure });
  await writeFile(out, spliceBrowser(before, section, browserTargetRows(result)));
  for (const row of browserTargetRows(result)) log(row);
}

/** Sections 1 to 7. */
async function allSections(): Promise<void> {
  const files = await loadCorpus(config.corpusDir, config.corpusLimit);
  if (files === undefined) {
    const why = `The corpus is absent (${config.corpusDir}); the steps that need it were skipped.`;
    log(why);
    for (const n of [1, 2, 3, 4, 5, 6]) note(results, n, why);
  } else {
    results.corpus = await summarize(config.corpusDir, files);
  }

  let server: ServerProcess | undefined;
  try {
    server = await section(7, 'server process', () => startServerProcess(repoRoot, config.server));
    if (server) results.server = { how: server.how, address: server.address };

    if (files) {
      results.prepare = await section(1, 'floor and prepareImage, interleaved', () =>
        measurePrepare(files, config.prepareRounds),
      );
      const prepared = results.prepare?.prepared;
      if (prepared)
        results.brotli = await section(3, 'Brotli qualities', async () =>
          measureBrotli(prepared, config.brotli),
        );
    }
    if (results.prepare === undefined) note(results, 2, 'No preparation figures: see step 1.');

    const settings: PipelineSettings = { mode: config.mode, inFlight: 2, quality: DEFAULT_BROTLI_QUALITY };
    if (files && server) {
      const s = server;
      results.e2e = await section(4, 'end to end', () =>
        measureE2e(files, s, settings, config.e2e.imagesPerRun, config.e2e.pairs),
      );
      if (results.e2e === undefined)
        note(results, 6, 'No event-loop figures: the end-to-end step did not run.');
      await memorySection(files, s, settings);
    } else if (!server) {
      for (const n of [4, 5, 6]) note(results, n, 'Skipped: the server process did not start (see step 7).');
    }

    if (server) {
      const s = server;
      const images = results.prepare?.prepared.slice(0, 8) ?? [syntheticImage(1), syntheticImage(2)];
      results.transport = await section(7, 'transport', () =>
        measureTransport(s, images, config.transportImages),
      );
    }
  } finally {
    await server?.stop();
  }
}

/** Section 5's runs against `server`, into `results.memory`. */
async function memorySection(
  files: readonly CorpusFile[],
  server: ServerProcess,
  settings: PipelineSettings,
): Promise<void> {
  const job = {
    paths: files.map((f) => f.path),
    address: server.address,
    serverPid: server.pid,
    images: config.memoryImages,
  };
  // After the command's run, the throughput pairs; with `--only memory` the section is written after
  // every run, so a long run stopped midway still leaves what it measured.
  let pairsTried = false;
  const onRun = async (runs: readonly MemoryRun[]): Promise<void> => {
    if (runs.length > 0) results.memory = [...runs];
    if (!pairsTried) {
      pairsTried = true;
      const { pairs, images } = config.memoryPairs;
      const measured = await section(5, `throughput pairs, ${pairs} x 2 runs of ${images} images`, () =>
        measureThroughputPairs(repoRoot, job, settings, pairs, images, log),
      );
      if (measured) results.memoryPairs = measured;
    }
    if (config.only === 'memory') await writeMemoryOnly();
  };
  await runMemoryVariants(repoRoot, job, settings, (name, work) => section(5, name, work), log, onRun);
}

/** `--only memory`: section 5 as measured so far, spliced into the report. */
async function writeMemoryOnly(): Promise<void> {
  results.loadEnd = loadAverage();
  await mkdir(dirname(out), { recursive: true });
  const before = await readFile(out, 'utf8').catch(() => '# Performance\n');
  await writeFile(out, spliceMemory(before, results));
}

/** `--only memory`: the corpus, a server process and section 5 alone. */
async function memoryOnly(): Promise<void> {
  const files = await loadCorpus(config.corpusDir, config.corpusLimit);
  if (files === undefined) {
    note(results, 5, `The corpus is absent (${config.corpusDir}); the memory runs were skipped.`);
    return;
  }
  const server = await section(5, 'server process', () => startServerProcess(repoRoot, config.server));
  if (server === undefined) return;
  results.server = { how: server.how, address: server.address };
  try {
    const settings = { mode: config.mode, inFlight: 2, quality: DEFAULT_BROTLI_QUALITY };
    await memorySection(files, server, settings);
  } finally {
    await server.stop();
  }
}

async function summarize(dir: string, list: readonly CorpusFile[]): Promise<CorpusSummary> {
  const counts = new Map<string, number>();
  for (const f of list) {
    const ext = extname(f.name).slice(1).toLowerCase();
    counts.set(ext, (counts.get(ext) ?? 0) + 1);
  }
  const mp = await Promise.all(
    list.map(async (f) => {
      const m = await sharp(f.data).metadata();
      return ((m.width ?? 0) * (m.height ?? 0)) / 1e6;
    }),
  );
  return {
    dir,
    files: list.length,
    megabytes: list.reduce((a, f) => a + f.data.byteLength, 0) / 1024 / 1024,
    formats: [...counts].map(([ext, n]) => `${n} ${ext}`).join(', '),
    megapixels: { min: Math.min(...mp), median: median(mp), max: Math.max(...mp) },
  };
}
