/**
 * The journal's line format, pure and browser-safe: one JSON object per outcome (the record), how an
 * outcome becomes a record, how a journal's text is checked and split into records (with a torn
 * last line told apart from a file that is not a journal), and which records are final.
 */
import { AthenaError } from '../../errors.js';
import { knownMatches, topLabel } from '../../labels.js';
import { HashType, type FailureStage, type ImageHash, type Outcome } from '../../model.js';

/**
 * What tells whether an input changed since its record was written: a file's size and modification
 * time, or for a URL its ref without the query.
 */
export type SourceFacts = { readonly size: number; readonly mtimeMs: number } | { readonly url: string };

/** Fields of every record. */
interface RecordBase {
  /** The input's ref (a URL's query redacted). */
  readonly ref: string;
  /** The source facts when known. */
  readonly source?: SourceFacts;
  /** Hex digests of the original bytes by algorithm (`md5`, `sha1`) when known. */
  readonly digests?: Readonly<Record<string, string>>;
}

/** A classified input. */
export interface JournalClassified extends RecordBase {
  readonly ok: true;
  readonly knownMatch: boolean;
  readonly correlationId: string;
  readonly top: { readonly label: string; readonly weight: number } | null;
  readonly labels: Readonly<Record<string, number>>;
  readonly cached?: true;
}

/** A failed input: where, the error's code and message (and an HTTP failure's status in `details`). */
export interface JournalFailure extends RecordBase {
  readonly ok: false;
  readonly stage: FailureStage;
  readonly code: string;
  readonly message: string;
  readonly details?: string;
}

/** One line of a journal. */
export type JournalRecord = JournalClassified | JournalFailure;

/** Failure stages that say nothing about the input itself: tried again on resume. */
export const TRANSIENT_STAGES: readonly string[] = ['transport', 'timeout'];

/** Failure codes that say nothing final about the input: tried again on resume. */
export const TRANSIENT_CODES: readonly string[] = [
  'MODEL_ERROR', 'UNSPECIFIED', 'TIMEOUT', 'UNAVAILABLE', 'CANCELLED', 'DEADLINE_EXCEEDED',
  'RESOURCE_EXHAUSTED', 'ABORTED', 'GLOBAL_ERROR', 'STALLED', 'CLOSED',
]; // prettier-ignore

/**
 * Whether a record is final: classified, or failed for a cause that another try would not change.
 * Failures at stage `transport` or `timeout`, with a code of {@link TRANSIENT_CODES}, or an
 * `HTTP_ERROR` that was a timeout, a network error, a 429 or a 5xx are not final.
 */
export function isFinalRecord(record: JournalRecord): boolean {
  if (record.ok) return true;
  if (TRANSIENT_STAGES.includes(record.stage) || TRANSIENT_CODES.includes(record.code)) return false;
  if (record.code === 'HTTP_ERROR') {
    const status = Number(record.details);
    return !(record.details === 'timeout' || record.details === 'network' || status === 429 || status >= 500);
  }
  return true;
}

/** The record of an outcome; digests come from `outcome.meta.digests` when it holds hex strings. */
export function journalRecord(outcome: Outcome, source?: SourceFacts): JournalRecord {
  const base = { ref: outcome.ref, ...(source === undefined ? {} : { source }) };
  const digests = digestsOf(outcome.meta?.['digests']);
  const tail = digests === undefined ? {} : { digests };
  if (outcome.ok) {
    const top = topLabel(outcome.labels);
    return {
      ...base,
      ok: true,
      knownMatch: knownMatches(outcome.labels).length > 0,
      correlationId: outcome.correlationId,
      top: top ? { label: top[0], weight: top[1] } : null,
      labels: outcome.labels,
      ...(outcome.cached ? { cached: true } : {}),
      ...tail,
    };
  }
  const { code, message, details } = outcome.error;
  return {
    ...base,
    ok: false,
    stage: outcome.stage,
    code,
    message,
    ...(code === 'HTTP_ERROR' && details !== undefined ? { details } : {}),
    ...tail,
  };
}

/** `outcome.meta.digests` for hashes of the original bytes: `{ md5, sha1 }` in lowercase hex. */
export function digestsMeta(hashes: readonly ImageHash[]): Record<string, string> {
  const names: Record<number, string> = {
    [HashType.HASH_TYPE_MD5]: 'md5',
    [HashType.HASH_TYPE_SHA1]: 'sha1',
  };
  return Object.fromEntries(
    hashes.flatMap((h) => (names[h.type] ? [[names[h.type], h.value.toLowerCase()]] : [])),
  );
}

function digestsOf(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const entries = Object.entries(value).filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string' && /^[0-9a-f]+$/.test(entry[1]),
  );
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}

/** The record's line, newline included. */
export function journalLine(record: JournalRecord): string {
  return `${JSON.stringify(record)}\n`;
}

/** What {@link parseJournal} found. */
export interface ParsedJournal {
  readonly records: readonly JournalRecord[];
  /** Bytes of whole lines: where the file must be cut when a torn line follows. */
  readonly wholeBytes: number;
  /** Bytes after the last newline: a line the writer was killed in the middle of (0 when none). */
  readonly tornBytes: number;
}

const HEAD = '{"ref":';

/**
 * Checks a journal's bytes and reads its records. A last line without its newline is torn when it
 * could be the start of a record; anything else that is not a record (a CSV file, a table, a line
 * broken in the middle of the file) throws `JOURNAL_INVALID` naming `name` and the line.
 */
export function parseJournal(bytes: Uint8Array, name: string): ParsedJournal {
  const end = bytes.lastIndexOf(0x0a) + 1;
  const tail = new TextDecoder().decode(bytes.subarray(end, Math.min(bytes.length, end + HEAD.length)));
  const lines = new TextDecoder().decode(bytes.subarray(0, end)).split('\n');
  lines.pop();
  const records: JournalRecord[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const record = toRecord(line);
    if (record === undefined) throw notAJournal(name, `line ${i + 1} is not a result record`);
    records.push(record);
  });
  if (end < bytes.length && !(HEAD.startsWith(tail) || tail.startsWith(HEAD))) {
    throw notAJournal(name, `line ${lines.length + 1} is not a result record`);
  }
  return { records, wholeBytes: end, tornBytes: bytes.length - end };
}

function notAJournal(name: string, why: string): AthenaError {
  return new AthenaError('JOURNAL_INVALID', `${name} is not a journal of results (${why})`);
}

function toRecord(line: string): JournalRecord | undefined {
  if (!line.startsWith(HEAD)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const r = value as Partial<Record<string, unknown>>;
  if (typeof r.ref !== 'string' || !validSource(r.source)) return undefined;
  if (r.ok === true && typeof r.labels === 'object' && r.labels !== null) return value as JournalClassified;
  if (r.ok === false && typeof r.stage === 'string' && typeof r.code === 'string')
    return value as JournalFailure;
  return undefined;
}

function validSource(source: unknown): boolean {
  if (source === undefined) return true;
  const s = source as Partial<Record<string, unknown>> | null;
  if (typeof s !== 'object' || s === null) return false;
  return typeof s.url === 'string' || (typeof s.size === 'number' && typeof s.mtimeMs === 'number');
}
