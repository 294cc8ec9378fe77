/**
 * `athena-rx testcases DIR`: runs a published test-case set (`DIR/expected_outputs.json`) against
 * the service and reports, per image and way of sending it, whether every expected label matched.
 */
import { lastValueFrom, toArray, type OperatorFunction } from 'rxjs';
import type { ItemOrFailure, Outcome } from '../model.js';
import { batch } from '../operators/batch.js';
import { classify } from '../operators/classify.js';
import { classifyEach } from '../operators/classifyEach.js';
import { compress } from '../operators/compress.js';
import { correlate } from '../operators/correlate.js';
import { resize } from '../operators/resize.js';
import { fromFiles } from '../sources/fromFiles.js';
import { newDeploymentId } from '../transport/deployments.js';
import type { Connection } from './connect.js';
import { compareOutcome, readTestCaseSet, type LabelMismatch } from './testcase-set.js';

export interface TestCasesOptions {
  readonly affiliate: string;
  /** Largest accepted difference per label (default 1e-4). */
  readonly tolerance: number;
  /** Also send every image through the unary ClassifySingle call. */
  readonly single: boolean;
  readonly format: 'table' | 'jsonl';
  readonly deploymentId?: string;
  readonly deadlineMs: number;
}

/** One image sent one way, and how it compared. */
export interface TestCaseReport {
  readonly image: string;
  readonly call: 'classify' | 'single';
  readonly encoding: 'uncompressed' | 'brotli';
  readonly ok: boolean;
  readonly mismatches: readonly LabelMismatch[];
  /** Set when the image got no classification at all. */
  readonly error?: { readonly code: string; readonly message: string };
}

/** Runs the set; resolves with the exit code: 0 when every label of every image matched, else 2. */
export async function runTestCases(
  dir: string,
  options: TestCasesOptions,
  connection: Connection,
  out: NodeJS.WritableStream,
): Promise<number> {
  const set = await readTestCaseSet(dir);
  const byPath = new Map(set.images.map((image, i) => [image.path, { image, i }]));
  const calls = options.single ? (['classify', 'single'] as const) : (['classify'] as const);
  const reports: (TestCaseReport & { order: number })[] = [];
  for (const call of calls) {
    for (const encoding of ['uncompressed', 'brotli'] as const) {
      const outcomes = await lastValueFrom(
        fromFiles(set.images.map((image) => image.path)).pipe(
          resize(),
          encoding === 'brotli' ? compress() : (items$) => items$,
          correlate(),
          send(call, options, connection),
          toArray(),
        ),
      );
      for (const outcome of outcomes) {
        const found = byPath.get(outcome.ref);
        if (found === undefined) continue;
        const order = found.i * 4 + (call === 'single' ? 2 : 0) + (encoding === 'brotli' ? 1 : 0);
        const base = { image: found.image.relpath, call, encoding, order };
        if (!outcome.ok) {
          const { code, message } = outcome.error;
          reports.push({ ...base, ok: false, mismatches: [], error: { code, message } });
          continue;
        }
        const mismatches = compareOutcome(outcome, found.image, set.labels, options.tolerance);
        reports.push({ ...base, ok: mismatches.length === 0, mismatches });
      }
    }
  }
  reports.sort((a, b) => a.order - b.order);
  for (const { order: _order, ...report } of reports) out.write(formatReport(report, options.format));
  const expected = set.images.length * calls.length * 2;
  const passed = reports.filter((r) => r.ok).length;
  if (options.format === 'table')
    out.write(`${passed} of ${expected} checks passed (tolerance ${options.tolerance})\n`);
  return passed === expected && reports.length === expected ? 0 : 2;
}

function send(
  call: 'classify' | 'single',
  options: TestCasesOptions,
  connection: Connection,
): OperatorFunction<ItemOrFailure, Outcome> {
  if (call === 'single') {
    return classifyEach(connection.client, { affiliate: options.affiliate, deadlineMs: options.deadlineMs });
  }
  const deploymentId = options.deploymentId ?? newDeploymentId();
  return (items$) =>
    items$.pipe(
      batch({ size: 10 }),
      classify(connection.client, { deploymentId, affiliate: options.affiliate }),
    );
}

/** A table row (`PASS`/`FAIL`, how it was sent, the image, what differed) or a JSON line. */
export function formatReport(report: TestCaseReport, format: 'table' | 'jsonl'): string {
  if (format === 'jsonl') return `${JSON.stringify(report)}\n`;
  const head = `${report.ok ? 'PASS' : 'FAIL'}  ${report.call.padEnd(8)} ${report.encoding.padEnd(12)} ${report.image}`;
  if (report.error) return `${head}  ${report.error.code}: ${report.error.message}\n`;
  const diffs = report.mismatches.map((m) =>
    m.actual === undefined
      ? `${m.label} expected ${m.expected}, missing`
      : `${m.label} expected ${m.expected}, got ${m.actual} (off by ${Math.abs(m.actual - m.expected).toExponential(2)})`,
  );
  return diffs.length === 0 ? `${head}\n` : `${head}  ${diffs.join('; ')}\n`;
}
