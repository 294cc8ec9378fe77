/**
 * Section 8 of the report, the fault scenarios: their table, what happened in each, the targets'
 * verdict, and the splice that writes this section alone into an existing report (`--only faults`).
 */
import { replaceSection, table } from './markdown.js';
import { faultPoint, type FaultsResult, type ScenarioName, type ScenarioResult } from './faults.js';
import { type FaultRun } from './faults-client.js';
import { type MachineInfo } from './machine.js';
import { BATCH_SIZE } from './pipeline.js';
import { fmt } from './stats.js';
import { type Status } from './targets.js';

export const FAULTS_HEADING = '## 8. Faults';
/** How far above the clean run's peak RSS the storm and the stopped server may go. */
export const FAULT_RSS_MARGIN_MB = 50;
/** classify's default reconnect budget: a run may end in failure only once it is spent. */
const BUDGET_S = 120;

const FAULT_TEXT: Record<ScenarioName, string> = {
  clean: 'none (the baseline)',
  'restart-2s': 'server SIGKILLed mid-run, started again on the same port 2 s after it exited',
  'restart-30s': 'server SIGKILLed mid-run, started again on the same port 30 s after it exited',
  stall: 'server keeps the stream but answers nothing for 40 s (`latencyMs: 60000` set, cleared 40 s later)',
  'global-errors':
    'every request answered with a `global_error` (`globalError: { every: 1 }`, from the start)',
  stopped: 'server SIGSTOPped mid-run (reads nothing, answers nothing), SIGCONT 20 s later',
};

interface Verdict {
  readonly target: string;
  readonly status: Status;
  readonly measured: string;
}

const failedText = (r: FaultRun): string =>
  Object.entries(r.failedByStage)
    .map(([stage, n]) => `${n} ${stage}`)
    .join(', ') || '0';

const budgetSpent = (r: FaultRun): boolean =>
  r.firstBreakS !== undefined && r.wallS - r.firstBreakS >= BUDGET_S - 1;

/** The targets of the fault scenarios, judged on the figures of this run. */
export function faultVerdicts(f: FaultsResult): Verdict[] {
  const find = (name: ScenarioName): ScenarioResult | undefined => f.scenarios.find((s) => s.name === name);
  const verdicts: Verdict[] = [];
  for (const name of ['clean', 'restart-2s', 'restart-30s', 'stall', 'stopped'] as const) {
    const s = find(name);
    if (s === undefined) continue;
    const target =
      `${name}: exactly one outcome per input, none lost, the run completes` +
      (name === 'restart-30s' ? ` (or fails only once the ${BUDGET_S} s reconnect budget is spent)` : '');
    const r = s.run;
    if (r === undefined) {
      verdicts.push({ target, status: 'NOT MET', measured: `no result: ${s.failure ?? 'unknown'}` });
      continue;
    }
    const endedWell = r.error === undefined || (name === 'restart-30s' && budgetSpent(r));
    verdicts.push({
      target,
      status: r.duplicates === 0 && r.lost === 0 && endedWell ? 'MET' : 'NOT MET',
      measured:
        `${r.classified} of ${r.images} classified, failed ${failedText(r)}, ${r.duplicates} duplicated, ` +
        `${r.lost} lost; ${r.error === undefined ? 'completed' : `ended with an error after ${fmt(r.wallS)} s: ${r.error}`}`,
    });
  }
  const clean = find('clean')?.run;
  for (const name of ['global-errors', 'stopped'] as const) {
    const r = find(name)?.run;
    if (find(name) === undefined) continue;
    const target = `${name}: peak client RSS within ${FAULT_RSS_MARGIN_MB} MB of the clean run`;
    if (r === undefined || clean === undefined) {
      verdicts.push({ target, status: 'NOT CHECKED', measured: 'this run or the clean run has no result' });
      continue;
    }
    const over = r.peakRssMb - clean.peakRssMb;
    verdicts.push({
      target,
      status: over <= FAULT_RSS_MARGIN_MB ? 'MET' : 'NOT MET',
      measured: `${fmt(r.peakRssMb)} MB against ${fmt(clean.peakRssMb)} MB (${over >= 0 ? '+' : ''}${fmt(over)} MB)`,
    });
  }
  return verdicts;
}

/** The body of section 8. */
export function renderFaults(f: FaultsResult | undefined, machine: MachineInfo, load: string): string {
  if (f === undefined) return 'Skipped (not asked for, or the step failed; see the note).';
  const clean = f.scenarios.find((s) => s.name === 'clean')?.run;
  const rows = f.scenarios.map(({ name, run: r, failure }) =>
    r === undefined
      ? [name, FAULT_TEXT[name], `no result: ${failure ?? ''}`, '', '', '', '', '', '', '', '', '', '']
      : [
          name,
          FAULT_TEXT[name],
          String(r.classified),
          failedText(r),
          `**${r.duplicates}**`,
          `**${r.lost}**`,
          String(r.events['reconnect'] ?? 0),
          String(r.events['stall'] ?? 0),
          String(r.events['resent'] ?? 0),
          String(r.events['duplicate'] ?? 0),
          fmt(r.wallS),
          `${fmt(r.peakRssMb)}${clean && name !== 'clean' ? ` (${r.peakRssMb >= clean.peakRssMb ? '+' : ''}${fmt(r.peakRssMb - clean.peakRssMb)})` : ''}`,
          r.error === undefined ? 'completed' : `error: ${r.error}`,
        ],
  );
  const first = f.scenarios.find((s) => s.run)?.run;
  return [
    `Method: run on ${f.startedAt} (${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, source ` +
      `${machine.revision}; load average ${load}). Each scenario sends ${f.images} images through ` +
      `\`fromBuffers\` (a generator, window ${f.window}, so the credit window bounds reading) -> \`correlate\` -> ` +
      `\`batch({ size: ${BATCH_SIZE} })\` -> \`classify(client, { deploymentId, affiliate })\` with every other option ` +
      'at its default (reconnect budget 120 s with jittered delays capped at 5 s, stall timeout 30 s, item deadline ' +
      "120 s, window slots held until a request's bytes left the client); only an `events` observer is added, to count. " +
      'The client runs in a child process of its own (so the peak RSS, sampled every 200 ms, is its own), the server ' +
      `(\`startAthenaServer\` in \`bench/fault-server-process\`) in another, on the fixed loopback port ${f.port}, a ` +
      'fresh one for each scenario, taking fault commands as JSON lines on its stdin. The images are four pre-built ' +
      `448 x 448 BGR images Brotli-compressed at quality 2 (${fmt((first?.imageBytes ?? NaN) / 1024)} KB each, about a ` +
      "photo's prepared size), their bytes shared by every item: decoding and resizing are not measured here, so " +
      "the RSS is what the transport, classify's bookkeeping and gRPC's buffers hold. Faults start when a quarter of " +
      `the images have their outcomes: the source, which reads a window ahead, holds at image ${faultPoint(f.images) + 1} ` +
      'until the fault is in place (a few milliseconds), so the fault lands mid-run with a window of images read and ' +
      'unanswered, whatever the speed. "duplicated": inputs with more than one outcome; ' +
      '"lost": inputs with no outcome; reconnects, stalls, re-sent items and duplicate outputs dropped are counted ' +
      "from classify's `events`.",
    '',
    table(
      [
        'scenario',
        'fault',
        'classified',
        'failed (by stage)',
        'duplicated',
        'lost',
        'reconnects',
        'stalls',
        're-sent items',
        'duplicate outputs dropped',
        'wall s',
        'peak client RSS MB (vs clean)',
        'ended',
      ],
      rows,
    ),
    '',
    table(
      ['target', 'status', 'measured'],
      faultVerdicts(f).map((v) => [v.target, `**${v.status}**`, v.measured]),
    ),
    '',
    "What happened in each scenario (times in seconds from the start of the client's run):",
    '',
    ...f.scenarios.map(({ name, actions, run: r }) => `- ${name}: ${details(actions, r)}`),
  ].join('\n');
}

function details(actions: ScenarioResult['actions'], r: FaultRun | undefined): string {
  const t0 = r?.startedAtMs ?? actions[0]?.atMs ?? 0;
  const parts = [
    actions.length > 0
      ? actions.map((a) => `${fmt((a.atMs - t0) / 1000)}: ${a.what}`).join('; ')
      : 'no fault',
  ];
  if (r) {
    parts.push(`start RSS ${fmt(r.startRssMb)} MB`);
    if (r.firstBreakS !== undefined)
      parts.push(`first break at ${fmt(r.firstBreakS)} s, last at ${fmt(r.lastBreakS ?? NaN)} s`);
    if (r.breakErrors.length > 0)
      parts.push(`reconnect errors: ${r.breakErrors.map((e) => `"${e}"`).join(', ')}`);
    const other = Object.entries(r.events)
      .filter(([type]) => !['reconnect', 'stall', 'resent', 'duplicate'].includes(type))
      .map(([type, n]) => `${type} ${n}`);
    if (other.length > 0) parts.push(`other events: ${other.join(', ')}`);
    if (r.firstFailure) parts.push(`first failure: ${r.firstFailure}`);
  }
  return `${parts.join('; ')}.`;
}

/** Puts `section` (heading and body) in place of the report's section 8, or at its end when it has none. */
export function spliceFaults(report: string, section: string): string {
  return replaceSection(report, FAULTS_HEADING, section);
}
