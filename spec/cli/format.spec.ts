import { describe, expect, it } from 'vitest';
import {
  csvHeader,
  csvRow,
  jsonLine,
  knownMark,
  knownMatches,
  tableRow,
  topLabel,
} from '../../src/cli/format.js';
import { addOutcome, formatSummary, newSummary } from '../../src/cli/summary.js';
import { AthenaError } from '../../src/errors.js';
import type { Classified, ItemFailure } from '../../src/model.js';

const classified: Classified = {
  kind: 'classified',
  ok: true,
  ref: 'photos/a,b.jpg',
  correlationId: 'c1',
  classifications: [],
  labels: {
    'UnknownCSAM-Lakeside': 0.2,
    'UnknownCSAM-Trees': 0.7,
    'UnknownCSAM-Entropy': 1.4,
    'UnknownCSAM-PCSAM': 0.9,
    'KnownCSAM-MD5': 1,
  },
};
const failed: ItemFailure = {
  kind: 'failure',
  ok: false,
  ref: 'photos/bad.jpg',
  stage: 'decode',
  error: new AthenaError('DECODE_FAILED', 'not an image'),
};

describe('CLI output formats', () => {
  it('picks the top category label, ignoring Entropy, PCSAM and hash labels', () => {
    expect(topLabel(classified.labels)).toEqual(['UnknownCSAM-Trees', 0.7]);
    expect(topLabel({ 'UnknownCSAM-Entropy': 2 })).toBeUndefined();
  });

  it('writes JSON lines for successes and failures', () => {
    expect(JSON.parse(jsonLine(classified))).toMatchObject({
      ref: 'photos/a,b.jpg',
      ok: true,
      top: { label: 'UnknownCSAM-Trees', weight: 0.7 },
    });
    expect(JSON.parse(jsonLine(failed))).toEqual({
      ref: 'photos/bad.jpg',
      ok: false,
      stage: 'decode',
      code: 'DECODE_FAILED',
      message: 'not an image',
    });
  });

  it('quotes CSV fields and leaves missing labels empty', () => {
    const columns = ['UnknownCSAM-Trees', 'UnknownCSAM-Goose'];
    expect(csvHeader(columns)).toBe(
      'source,status,known_match,top_label,top_weight,UnknownCSAM-Trees,UnknownCSAM-Goose,stage,code,message',
    );
    expect(csvRow(classified, columns)).toBe('"photos/a,b.jpg",ok,true,UnknownCSAM-Trees,0.7,0.7,,,,');
    expect(csvRow(failed, columns)).toBe('photos/bad.jpg,failed,,,,,,decode,DECODE_FAILED,not an image');
  });

  it('renders table rows with the failure stage and code', () => {
    expect(tableRow(classified)).toContain('Trees 0.700');
    expect(tableRow(failed)).toContain('FAILED decode/DECODE_FAILED: not an image');
    expect(tableRow({ ...failed, ref: 'x'.repeat(80) }).startsWith('...')).toBe(true);
  });
});

describe('known-hash matches', () => {
  it('counts only KnownCSAM labels with a weight of 1', () => {
    expect(knownMatches({ 'KnownCSAM-MD5': 1, 'KnownCSAM-SHA1': 0, 'UnknownCSAM-Trees': 1 })).toEqual([
      'KnownCSAM-MD5',
    ]);
    expect(knownMark({ 'KnownCSAM-SHA1': 1, 'KnownCSAM-MD5': 1 })).toBe('MD5+SHA1');
    expect(knownMark({ 'KnownCSAM-MD5': 0.5 })).toBe('');
  });

  it('marks a match right after the source in the table and as a boolean in JSON lines', () => {
    expect(tableRow(classified)).toMatch(/^photos\/a,b\.jpg\s+MD5\s+Trees 0\.700/);
    const unmatched = { ...classified, labels: { 'UnknownCSAM-Trees': 0.7, 'KnownCSAM-MD5': 0 } };
    expect(tableRow(unmatched)).toMatch(/^photos\/a,b\.jpg\s{14,}Trees 0\.700/);
    expect(JSON.parse(jsonLine(classified))).toMatchObject({ knownMatch: true });
    expect(JSON.parse(jsonLine(unmatched))).toMatchObject({ knownMatch: false });
  });

  it('lists matches first in the summary, with their refs', () => {
    const summary = newSummary(0);
    addOutcome(summary, failed);
    addOutcome(summary, classified);
    const lines = formatSummary(summary, 1000, false, 3).split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'KNOWN HASH MATCHES: 1',
      '  photos/a,b.jpg  (KnownCSAM-MD5)',
      '2 images: 1 classified, 1 failed, 1 skipped',
    ]);
  });
});

describe('CLI summary', () => {
  it('counts outcomes by status, stage, code and top label', () => {
    const summary = newSummary(0);
    addOutcome(summary, classified);
    addOutcome(summary, classified);
    addOutcome(summary, failed);
    const text = formatSummary(summary, 2000);
    expect(text).toContain('3 images: 2 classified, 1 failed\n');
    expect(text).toContain('1.5 images/s');
    expect(text).toContain('failures by stage: decode 1');
    expect(text).toContain('failures by code: DECODE_FAILED 1');
    expect(text).toContain('top labels: UnknownCSAM-Trees 2');
  });
});
