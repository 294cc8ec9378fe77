import { journalRecord } from '../internal/journal/record.js';
import { knownMatches, topLabel } from '../labels.js';
import type { Outcome } from '../model.js';

export type OutputFormat = 'table' | 'jsonl' | 'csv';

export { knownMatches, topLabel };

/** `MD5`, `SHA1`, `MD5+SHA1` for a row's known-hash matches; empty when there are none. */
export function knownMark(labels: Readonly<Record<string, number>>): string {
  return knownMatches(labels)
    .map((label) => label.replace(/^KnownCSAM-/, ''))
    .join('+');
}

function shortLabel(label: string): string {
  return label.replace(/^UnknownCSAM-/, '');
}

/**
 * One JSON object per line: everything a script needs, nothing secret. It is the journal's record
 * (see `journal`), without the source facts, which only a journal written to a file records.
 */
export function jsonLine(outcome: Outcome): string {
  return JSON.stringify(journalRecord(outcome));
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** CSV: a header naming every label column, then one row per image. */
export function csvHeader(labelColumns: readonly string[]): string {
  return [
    'source',
    'status',
    'known_match',
    'top_label',
    'top_weight',
    ...labelColumns,
    'stage',
    'code',
    'message',
  ]
    .map(csvField)
    .join(',');
}

export function csvRow(outcome: Outcome, labelColumns: readonly string[]): string {
  if (outcome.ok) {
    const top = topLabel(outcome.labels);
    const weights = labelColumns.map((label) => {
      const weight = outcome.labels[label];
      return weight === undefined ? '' : String(weight);
    });
    const known = String(knownMatches(outcome.labels).length > 0);
    return [outcome.ref, 'ok', known, top?.[0] ?? '', top ? String(top[1]) : '', ...weights, '', '', '']
      .map(csvField)
      .join(',');
  }
  const blanks = labelColumns.map(() => '');
  return [
    outcome.ref,
    'failed',
    '',
    '',
    '',
    ...blanks,
    outcome.stage,
    outcome.error.code,
    outcome.error.message,
  ]
    .map(csvField)
    .join(',');
}

const KNOWN_WIDTH = 10;

/**
 * A fixed-width table row: source, known-hash match (`MD5`, `SHA1`, `MD5+SHA1`), top label and
 * weight, then every label, or the failure.
 */
export function tableRow(outcome: Outcome, refWidth = 36): string {
  const ref = outcome.ref.length > refWidth ? `...${outcome.ref.slice(-(refWidth - 3))}` : outcome.ref;
  const head = `${ref.padEnd(refWidth)}  ${(outcome.ok ? knownMark(outcome.labels) : '').padEnd(KNOWN_WIDTH)}`;
  if (outcome.ok) {
    const top = topLabel(outcome.labels);
    const topText = top ? `${shortLabel(top[0])} ${top[1].toFixed(3)}` : '-';
    const all = Object.entries(outcome.labels)
      .map(([label, weight]) => `${shortLabel(label)}=${weight.toFixed(3)}`)
      .join(' ');
    return `${head}  ${topText.padEnd(18)}  ${all}${outcome.cached ? '  (cached)' : ''}`;
  }
  return `${head}  FAILED ${outcome.stage}/${outcome.error.code}: ${outcome.error.message}`;
}

export function tableHeader(refWidth = 36): string {
  return `${'SOURCE'.padEnd(refWidth)}  ${'KNOWN HASH'.padEnd(KNOWN_WIDTH)}  ${'TOP LABEL'.padEnd(18)}  LABELS`;
}
