import {
  BENIGN_LABELS,
  ENTROPY_LABEL,
  KNOWN_MD5_LABEL,
  KNOWN_SHA1_LABEL,
  LIVE_LABELS,
  PCSAM_LABEL,
} from '../labels.js';
import type { Outcome } from '../model.js';
import { csvHeader, csvRow, jsonLine, tableHeader, tableRow, type OutputFormat } from './format.js';

/** Label columns of the CSV output: the live model's and the benign test model's, then the shared ones. */
export const CSV_LABELS: readonly string[] = [
  ...LIVE_LABELS,
  ...BENIGN_LABELS,
  ENTROPY_LABEL,
  PCSAM_LABEL,
  KNOWN_MD5_LABEL,
  KNOWN_SHA1_LABEL,
];

export interface ResultWriter {
  write(outcome: Outcome): void;
  end(): void;
}

/**
 * Writes one line or row per outcome as it arrives. CSV columns are fixed (both documented label
 * sets) so that files from different runs line up; a label outside them is left out of CSV but kept
 * in JSON lines.
 */
export function createResultWriter(format: OutputFormat, out: NodeJS.WritableStream): ResultWriter {
  let started = false;
  const start = (): void => {
    if (started) return;
    started = true;
    if (format === 'csv') out.write(`${csvHeader(CSV_LABELS)}\n`);
    if (format === 'table') out.write(`${tableHeader()}\n`);
  };
  return {
    write(outcome) {
      start();
      if (format === 'jsonl') out.write(`${jsonLine(outcome)}\n`);
      else if (format === 'csv') out.write(`${csvRow(outcome, CSV_LABELS)}\n`);
      else out.write(`${tableRow(outcome)}\n`);
    },
    end() {
      start();
    },
  };
}
