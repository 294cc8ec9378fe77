/**
 * Section 9 of the report, the cost of telemetry: its table and method, the target's verdict, and the
 * splices that write this section and its Targets line alone into an existing report
 * (`--only telemetry`).
 */
import { type MachineInfo } from './machine.js';
import { BATCH_SIZE, BATCH_WAIT_MS } from './pipeline.js';
import { fmt } from './stats.js';
import { type TargetCheck } from './targets.js';
import { type TelemetryResult, type TelemetryVariant } from './telemetry.js';

export const TELEMETRY_HEADING = '## 9. Telemetry cost';
/** The most per-stream telemetry may cost, as a fraction of throughput. */
export const STREAM_COST_LIMIT = 0.02;
const TARGET = `per-stream telemetry costs under ${STREAM_COST_LIMIT * 100}% of end-to-end throughput`;

const LABEL: Record<TelemetryVariant, string> = {
  off: 'off: no provider given, none registered',
  stream: 'spans per stream, and every metric',
  image: 'spans per stream and per image (`traceImages`), and every metric',
};

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${fmt(x * 100, 1)}%`;

const table = (head: readonly string[], rows: readonly (readonly string[])[]): string =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

/** The Targets line of section 9. */
export function telemetryTarget(t: TelemetryResult | undefined): TargetCheck {
  if (t === undefined) return { target: TARGET, status: 'NOT CHECKED', measured: 'no telemetry figures' };
  const c = t.cost.stream;
  return {
    target: TARGET,
    status: t.failed > 0 ? 'NOT MET' : c.throughput.median < STREAM_COST_LIMIT ? 'MET' : 'NOT MET',
    measured:
      `${pct(c.throughput.median)} throughput (median of ${t.rounds} rounds against off in the same round; ` +
      `${pct(c.throughput.min)} to ${pct(c.throughput.max)}), ${pct(c.cpu.median)} client CPU per image`,
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
        ? `${pct(cost.throughput.median)} (${pct(cost.throughput.min)} to ${pct(cost.throughput.max)})`
        : '',
      cost ? `${pct(cost.cpu.median)} (${pct(cost.cpu.min)} to ${pct(cost.cpu.max)})` : '',
    ];
  });
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
      ['telemetry', 'median images/s', 'median CPU ms/image', 'throughput cost vs off', 'CPU cost vs off'],
      summary,
    ),
    '',
    table(['target', 'status', 'measured'], [[verdict.target, `**${verdict.status}**`, verdict.measured]]),
  ].join('\n');
}

/** Puts `section` (heading and body) in place of the report's section 9, or at its end when it has none. */
export function spliceTelemetry(report: string, section: string): string {
  const start = report.indexOf(`\n${TELEMETRY_HEADING}\n`);
  if (start < 0) return `${report.trimEnd()}\n\n${section.trim()}\n`;
  const next = report.indexOf('\n## ', start + 1);
  const rest = next < 0 ? '' : report.slice(next);
  return `${report.slice(0, start)}\n${section.trim()}\n${rest}`;
}

/** Puts the Targets line of section 9 in place of the one the report has, or last in its Targets table. */
export function spliceTelemetryTarget(report: string, check: TargetCheck): string {
  const row = `| ${check.target} | **${check.status}** | ${check.measured} |`;
  const lines = report.split('\n');
  const existing = lines.findIndex((l) => l.startsWith(`| ${TARGET} |`));
  if (existing >= 0) {
    lines[existing] = row;
    return lines.join('\n');
  }
  const heading = lines.indexOf('## Targets');
  if (heading < 0) return report;
  let at = heading + 1;
  while (at < lines.length && !lines[at]!.startsWith('|')) at += 1;
  while (at < lines.length && lines[at]!.startsWith('|')) at += 1;
  lines.splice(at, 0, row);
  return lines.join('\n');
}
