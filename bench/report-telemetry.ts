/**
 * Section 9 of the report, the cost of telemetry: its table and method, the target's verdict, and the
 * splices that write this section and its Targets line alone into an existing report
 * (`--only telemetry`).
 */
import { replaceSection, table } from './markdown.js';
import { type MachineInfo } from './machine.js';
import { BATCH_SIZE, BATCH_WAIT_MS } from './pipeline.js';
import { fmt } from './stats.js';
import { type TargetCheck } from './targets.js';
import { type TelemetryResult, type TelemetryVariant } from './telemetry.js';

export const TELEMETRY_HEADING = '## 9. Telemetry cost';
/** The most per-stream telemetry may cost, as a fraction of throughput. */
export const STREAM_COST_LIMIT = 0.02;
const TARGET = `per-stream telemetry costs under ${STREAM_COST_LIMIT * 100}% (client CPU per image of the whole pipeline)`;

const LABEL: Record<TelemetryVariant, string> = {
  off: 'off: no provider given, none registered',
  stream: 'spans per stream, and every metric',
  image: 'spans per stream and per image (`traceImages`), and every metric',
};

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${fmt(x * 100, 1)}%`;

/** What `variant`'s telemetry adds, as a fraction of the whole pipeline's CPU per image with it off. */
export function addedShare(t: TelemetryResult, variant: 'stream' | 'image'): number {
  return t.light.addedMs[variant] / t.medians.off.cpuMs;
}

/**
 * The Targets line of section 9, judged on CPU: what per-stream telemetry adds to the light pipeline's
 * CPU per image, against the whole pipeline's. On a loaded machine the wall-clock spread of whole
 * runs is far wider than 2%; CPU time of the telemetry's own work is not.
 */
export function telemetryTarget(t: TelemetryResult | undefined): TargetCheck {
  if (t === undefined) return { target: TARGET, status: 'NOT CHECKED', measured: 'no telemetry figures' };
  const share = addedShare(t, 'stream');
  const c = t.cost.stream;
  return {
    target: TARGET,
    status: t.failed > 0 ? 'NOT MET' : share < STREAM_COST_LIMIT ? 'MET' : 'NOT MET',
    measured:
      `${pct(share)}: ${fmt(t.light.addedMs.stream * 1000)} µs of CPU added per image (median of ${t.rounds} rounds) ` +
      `against ${fmt(t.medians.off.cpuMs)} ms per image for the whole pipeline; end-to-end throughput ` +
      `${pct(-c.throughput.median)} (median; ${pct(-c.throughput.max)} to ${pct(-c.throughput.min)} over rounds, the machine's noise)`,
  };
}

/** The body of section 9. */
export function renderTelemetry(t: TelemetryResult | undefined, machine: MachineInfo, load: string): string {
  if (t === undefined) return 'Skipped (not asked for, or the step failed; see the note).';
  const s = t.settings;
  const rows = t.runs.map((r) => [
    String(r.round + 1),
    r.variant,
    String(r.images),
    fmt(r.wallMs / 1000, 2),
    fmt(r.imagesPerSecond),
    fmt(r.clientCpuMsPerImage),
    String(r.spans),
    String(r.points),
    String(r.tally.failed),
  ]);
  const summary = (['off', 'stream', 'image'] as const).map((v) => {
    const cost = v === 'off' ? undefined : t.cost[v];
    return [
      LABEL[v],
      fmt(t.medians[v].imagesPerSecond),
      fmt(t.medians[v].cpuMs),
      cost
        ? `${pct(-cost.throughput.median)} (${pct(-cost.throughput.max)} to ${pct(-cost.throughput.min)})`
        : '',
      cost ? `${pct(cost.cpu.median)} (${pct(cost.cpu.min)} to ${pct(cost.cpu.max)})` : '',
    ];
  });
  const l = t.light;
  const lightRows = l.runs.map(({ variant, round, run }) => [
    String(round + 1),
    variant,
    String(run.images),
    fmt(run.wallMs / 1000, 2),
    fmt((run.images * 1000) / run.wallMs),
    fmt(run.clientCpuMsPerImage, 3),
    String(run.failed),
  ]);
  const lightSummary = (['off', 'stream', 'image'] as const).map((v) => [
    LABEL[v],
    fmt(l.cpuMs[v], 3),
    v === 'off' ? '' : `${fmt(l.addedMs[v] * 1000)} µs`,
    v === 'off' ? '' : pct(addedShare(t, v)),
  ]);
  const verdict = telemetryTarget(t);
  return [
    `Method: run on ${t.startedAt} (${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, source ` +
      `${machine.revision}; load average ${load}). The pipeline of step 4 (\`fromFiles\` over the corpus cycled -> ` +
      `\`hashImage\` -> \`resize\` (mode \`${s.mode}\`, ${s.inFlight} in flight) -> \`compress\` (quality ${s.quality}) -> ` +
      `\`correlate\` -> \`batch\` (${BATCH_SIZE} or ${BATCH_WAIT_MS} ms) -> \`classify\`) against the server process, ` +
      `${t.imagesPerRun} images a run, in ${t.rounds} rounds of three runs: off (no provider given and none ` +
      "registered: `@opentelemetry/api` is installed, so the sources and `classify` record to the API's no-ops), " +
      'stream (`tracerProvider` and `meterProvider` given to the source and to `classify`: a span per stream ' +
      'connection and every metric, including `athena.client.prepare.duration` and `athena.client.image.duration`), ' +
      'and image (the same with `traceImages: true`: six more spans per image). The providers are the real ' +
      'OpenTelemetry SDK: a `BatchSpanProcessor` into an exporter that only counts the spans it is given, and a ' +
      'metric reader collected once at the end of each run; a fresh SDK for each run. The order of the three ' +
      'rotates round by round, after an untimed warm-up of each. The cost of a variant is taken against the off ' +
      'run of the same round, so that load that changes between rounds cancels out; the spread over rounds is ' +
      'the noise of this shared machine, which had several other test runs going.',
    '',
    '**Whole pipeline.**',
    '',
    table(
      [
        'round',
        'telemetry',
        'images',
        'wall s',
        'images/s',
        'client CPU ms/image',
        'spans',
        'metric points',
        'failed',
      ],
      rows,
    ),
    '',
    table(
      ['telemetry', 'median images/s', 'median CPU ms/image', 'throughput vs off', 'CPU per image vs off'],
      summary,
    ),
    '',
    "The whole pipeline's wall time and CPU per image move by more from run to run than telemetry could " +
      'cost, so its cost is taken from the light pipeline below.',
    '',
    `**Light pipeline.** The same steps and the same SDK set-ups, on ${l.imagesPerRun} images a run made in ` +
      'memory (448 x 448 BGR, four distinct), with the work taken out of the steps: `hashImage`, `resize` and ' +
      '`compress` get injected functions that answer at once (a fixed digest; the same pixels; bytes ' +
      'Brotli-encoded beforehand), so each image still makes every span and every measurement of the whole ' +
      "pipeline, but the client's CPU per image is only the transport's and the telemetry's. Same rounds, same " +
      'rotation. "added" is the median over rounds of the CPU per image minus the off run\'s in the same round; ' +
      '"share" divides it by the whole pipeline\'s CPU per image with telemetry off (median above).',
    '',
    table(['round', 'telemetry', 'images', 'wall s', 'images/s', 'client CPU ms/image', 'failed'], lightRows),
    '',
    table(
      ['telemetry', 'median CPU ms/image', 'added per image', 'share of the whole pipeline'],
      lightSummary,
    ),
    '',
    table(['target', 'status', 'measured'], [[verdict.target, `**${verdict.status}**`, verdict.measured]]),
  ].join('\n');
}

/** Puts `section` (heading and body) in place of the report's section 9, or at its end when it has none. */
export function spliceTelemetry(report: string, section: string): string {
  return replaceSection(report, TELEMETRY_HEADING, section);
}

/** Puts the Targets line of section 9 in place of the one the Targets table has, or last in that table. */
export function spliceTelemetryTarget(report: string, check: TargetCheck): string {
  const row = `| ${check.target} | **${check.status}** | ${check.measured} |`;
  const lines = report.split('\n');
  const heading = lines.indexOf('## Targets');
  if (heading < 0) return report;
  let at = heading + 1;
  while (at < lines.length && !lines[at]!.startsWith('|')) at += 1;
  for (; at < lines.length && lines[at]!.startsWith('|'); at += 1) {
    // A line of an earlier run, under this target's name then or now.
    if (lines[at]!.startsWith('| per-stream telemetry costs under ')) {
      lines[at] = row;
      return lines.join('\n');
    }
  }
  lines.splice(at, 0, row);
  return lines.join('\n');
}
