import type { Outcome } from '../model.js';
import { topLabel } from './format.js';

/** Running totals for the closing summary. */
export interface RunSummary {
  classified: number;
  failed: number;
  cached: number;
  failuresByStage: Record<string, number>;
  failuresByCode: Record<string, number>;
  topLabels: Record<string, number>;
  startedAt: number;
}

export function newSummary(now: number): RunSummary {
  return {
    classified: 0,
    failed: 0,
    cached: 0,
    failuresByStage: {},
    failuresByCode: {},
    topLabels: {},
    startedAt: now,
  };
}

export function addOutcome(summary: RunSummary, outcome: Outcome): void {
  if (outcome.ok) {
    summary.classified++;
    if (outcome.cached) summary.cached++;
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

/** The closing summary: counts, failures by stage and code, images per second, label distribution. */
export function formatSummary(summary: RunSummary, now: number, interrupted = false): string {
  const seconds = Math.max(0.001, (now - summary.startedAt) / 1000);
  const total = summary.classified + summary.failed;
  const lines = [
    `${interrupted ? 'Interrupted: ' : ''}${total} images: ${summary.classified} classified, ${summary.failed} failed` +
      (summary.cached > 0 ? ` (${summary.cached} from cache)` : ''),
    `time ${seconds.toFixed(1)} s, ${(total / seconds).toFixed(1)} images/s`,
  ];
  if (summary.failed > 0) {
    lines.push(`failures by stage: ${counts(summary.failuresByStage)}`);
    lines.push(`failures by code: ${counts(summary.failuresByCode)}`);
  }
  if (summary.classified > 0) lines.push(`top labels: ${counts(summary.topLabels)}`);
  return lines.join('\n');
}
