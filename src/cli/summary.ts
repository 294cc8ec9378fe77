import type { Outcome } from '../model.js';
import { knownMatches, topLabel } from './format.js';

/** Running totals for the closing summary. */
export interface RunSummary {
  classified: number;
  failed: number;
  cached: number;
  /** Inputs left out because the journal resumed holds their final outcome. */
  resumed: number;
  failuresByStage: Record<string, number>;
  failuresByCode: Record<string, number>;
  topLabels: Record<string, number>;
  /** Images whose hash matched a known list, in arrival order, with the matching labels. */
  knownMatches: { ref: string; labels: string[] }[];
  startedAt: number;
}

export function newSummary(now: number): RunSummary {
  return {
    classified: 0,
    failed: 0,
    cached: 0,
    resumed: 0,
    failuresByStage: {},
    failuresByCode: {},
    topLabels: {},
    knownMatches: [],
    startedAt: now,
  };
}

export function addOutcome(summary: RunSummary, outcome: Outcome): void {
  if (outcome.ok) {
    summary.classified++;
    if (outcome.cached) summary.cached++;
    const known = knownMatches(outcome.labels);
    if (known.length > 0) summary.knownMatches.push({ ref: outcome.ref, labels: known });
    const top = topLabel(outcome.labels);
    if (top) summary.topLabels[top[0]] = (summary.topLabels[top[0]] ?? 0) + 1;
  } else {
    summary.failed++;
    summary.failuresByStage[outcome.stage] = (summary.failuresByStage[outcome.stage] ?? 0) + 1;
    summary.failuresByCode[outcome.error.code] = (summary.failuresByCode[outcome.error.code] ?? 0) + 1;
  }
}

function counts(record: Record<string, number>): string {
  const entries = Object.entries(record).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? 'none' : entries.map(([key, n]) => `${key} ${n}`).join(', ');
}

/**
 * The closing summary: known-hash matches first (every one, with its ref), then counts (skipped
 * images, when a run was cut short), failures by stage and code, images per second, label distribution.
 */
export function formatSummary(
  summary: RunSummary,
  now: number,
  interrupted = false,
  submitted?: number,
): string {
  const seconds = Math.max(0.001, (now - summary.startedAt) / 1000);
  const total = summary.classified + summary.failed;
  const lines: string[] = [];
  if (summary.knownMatches.length > 0) {
    lines.push(`KNOWN HASH MATCHES: ${summary.knownMatches.length}`);
    for (const match of summary.knownMatches) lines.push(`  ${match.ref}  (${match.labels.join(', ')})`);
  }
  const skipped = submitted === undefined ? 0 : Math.max(0, submitted - total);
  lines.push(
    `${interrupted ? 'Interrupted: ' : ''}${total} images: ${summary.classified} classified, ${summary.failed} failed` +
      (skipped > 0 ? `, ${skipped} skipped` : '') +
      (summary.resumed > 0 ? `, ${summary.resumed} already done (skipped)` : '') +
      (summary.cached > 0 ? ` (${summary.cached} from cache)` : ''),
    `time ${seconds.toFixed(1)} s, ${(total / seconds).toFixed(1)} images/s`,
  );
  if (summary.failed > 0) {
    lines.push(`failures by stage: ${counts(summary.failuresByStage)}`);
    lines.push(`failures by code: ${counts(summary.failuresByCode)}`);
  }
  if (summary.classified > 0) lines.push(`top labels: ${counts(summary.topLabels)}`);
  return lines.join('\n');
}
