/**
 * The queue's names and records: run ids, BullMQ job ids, the Redis keys of a run (all under one
 * hash tag, so a run's keys share a cluster slot), the chunk payload and its checks, the outcome
 * records written to Redis (the journal's record format) and their way back to outcomes, and the
 * Lua scripts that write an outcome or a dead letter at most once.
 */
import { AthenaError, redactUrl } from '../errors.js';
import { journalRecord, type JournalRecord } from '../internal/journal/record.js';
import type { Outcome } from '../model.js';

/** The BullMQ queue every run's chunks go to unless told otherwise. */
export const DEFAULT_QUEUE = 'athena-rx';
/** Refs per chunk job unless told otherwise. */
export const DEFAULT_CHUNK_SIZE = 100;

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Checks a run id: 1-128 letters, digits, `_`, `.` or `-`, starting with a letter or digit. */
export function validateRun(run: unknown): string {
  if (typeof run !== 'string') throw new TypeError('run must be a string');
  if (!RUN_ID.test(run)) {
    throw new RangeError('run must be 1-128 letters, digits, _ . or -, starting with a letter or digit');
  }
  return run;
}

/** Checks a BullMQ queue name (BullMQ refuses `:`). */
export function validateQueueName(name: unknown): string {
  if (typeof name !== 'string') throw new TypeError('queue must be a string');
  if (!RUN_ID.test(name)) throw new RangeError('queue must be 1-128 letters, digits, _ . or -');
  return name;
}

/**
 * The job id of a chunk. BullMQ refuses custom ids with a single `:`, so run and chunk are joined
 * with `/` (a run id holds no `/`).
 */
export function jobId(run: string, chunk: number): string {
  return `${run}/${chunk}`;
}

/** The Redis keys of one run. */
export interface RunKeys {
  /** Hash: `total` refs, `chunks`, `done`, `failed`, `dead:<chunk>` errors. */
  readonly meta: string;
  /** Hash: ref to its outcome record (JSON). */
  readonly outcomes: string;
  /** Stream: one entry per recorded outcome (`ref`, `record`) and per dead letter (`dead`, `error`). */
  readonly stream: string;
  /** Set: the chunk numbers enqueued. */
  readonly chunks: string;
}

export function runKeys(run: string): RunKeys {
  const base = `athena-rx:run:{${run}}`;
  return {
    meta: `${base}:meta`,
    outcomes: `${base}:outcomes`,
    stream: `${base}:stream`,
    chunks: `${base}:chunks`,
  };
}

/** What a chunk job carries: references, never image bytes. */
export interface ChunkPayload {
  readonly run: string;
  readonly chunk: number;
  /** File paths (absolute) and http(s) URLs. */
  readonly refs: readonly string[];
}

/** Checks a job's data; an invalid payload is `INVALID_INPUT` (retrying would not change it). */
export function parsePayload(data: unknown): ChunkPayload {
  const d = (typeof data === 'object' && data !== null ? data : {}) as Partial<Record<string, unknown>>;
  const refs = d.refs;
  if (
    typeof d.run !== 'string' ||
    !RUN_ID.test(d.run) ||
    !Number.isSafeInteger(d.chunk) ||
    !Array.isArray(refs) ||
    !refs.every((ref) => typeof ref === 'string' && ref.length > 0)
  ) {
    throw new AthenaError('INVALID_INPUT', 'the chunk job holds no valid payload (run, chunk, refs)');
  }
  return { run: d.run, chunk: d.chunk as number, refs: refs as string[] };
}

/** Whatever a job's data holds of a payload (for its dead letter): the run from the job id if need be. */
export function lenientPayload(data: unknown, id: string): ChunkPayload {
  const d = (typeof data === 'object' && data !== null ? data : {}) as Partial<Record<string, unknown>>;
  const run = typeof d.run === 'string' && RUN_ID.test(d.run) ? d.run : (id.split('/')[0] ?? '');
  const chunk = Number.isSafeInteger(d.chunk) ? (d.chunk as number) : -1;
  const refs = Array.isArray(d.refs) ? d.refs.filter((r): r is string => typeof r === 'string') : [];
  return { run: RUN_ID.test(run) ? run : '', chunk, refs };
}

/** Whether a ref is a URL (else a file path). */
export function isUrl(ref: string): boolean {
  return /^https?:\/\//i.test(ref);
}

/** The key of a ref's outcome: the ref an outcome of it carries (a URL's query redacted). */
export function refKey(ref: string): string {
  return isUrl(ref) ? redactUrl(ref) : ref;
}

/** The record of an outcome, as stored. */
export function recordOf(outcome: Outcome): string {
  return JSON.stringify(journalRecord(outcome));
}

/** An outcome back from its record. */
export function outcomeOf(text: string): Outcome {
  const record = JSON.parse(text) as JournalRecord;
  const meta = record.digests === undefined ? {} : { meta: { digests: record.digests } };
  if (record.ok) {
    return {
      kind: 'classified',
      ok: true,
      ref: record.ref,
      correlationId: record.correlationId,
      classifications: Object.entries(record.labels).map(([label, weight]) => ({ label, weight })),
      labels: record.labels,
      ...(record.cached ? { cached: true } : {}),
      ...meta,
    };
  }
  const error = new AthenaError(
    record.code as AthenaError['code'],
    record.message,
    record.details === undefined ? {} : { details: record.details },
  );
  return { kind: 'failure', ok: false, ref: record.ref, stage: record.stage, error, ...meta };
}

/**
 * Records an outcome unless its ref has one: KEYS meta, outcomes, stream; ARGV ref, record, `1` for
 * a classified image. Returns 1 when written, 0 when the ref already had its outcome.
 */
export const RECORD_SCRIPT = `
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('XADD', KEYS[3], '*', 'ref', ARGV[1], 'record', ARGV[2])
if ARGV[3] == '1' then redis.call('HINCRBY', KEYS[1], 'done', 1) else redis.call('HINCRBY', KEYS[1], 'failed', 1) end
return 1`;

/**
 * Records a chunk's dead letter once: KEYS meta, stream; ARGV chunk, error JSON. Returns 1 when
 * written, 0 when the chunk already had one.
 */
export const DEAD_LETTER_SCRIPT = `
if redis.call('HSETNX', KEYS[1], 'dead:' .. ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('XADD', KEYS[2], '*', 'dead', ARGV[1], 'error', ARGV[2])
return 1`;
