import { open, readFile, truncate } from 'node:fs/promises';
import { AthenaError } from '../errors.js';
import { unchanged } from '../internal/journal/io.js';
import { isFinalRecord, parseJournal, type JournalRecord } from '../internal/journal/record.js';
import { assertString } from '../internal/core/validate.js';

/** A journal read back for resuming its run (see {@link openJournal}). */
export interface Journal {
  readonly path: string;
  /** The last record of every ref in the file (a ref tried again has several), by ref. */
  readonly records: ReadonlyMap<string, JournalRecord>;
  /** How many refs have a final record: classified, or failed for good. */
  readonly done: number;
  /** Bytes of a torn last line cut off the file (0 when it ended with a whole line). */
  readonly truncatedBytes: number;
  /**
   * The `skip` predicate for `fromFiles`, `fromDirectory` and `fromUrls`: `true` for a ref whose
   * last record is final and whose file has the same size and modification time as recorded (a
   * URL's record is enough). Answers at once for refs without a final record, after a `stat`
   * otherwise.
   */
  skip(ref: string): boolean | Promise<boolean>;
  /** Whether a record is final (see `isFinalRecord`). */
  isFinal(record: JournalRecord): boolean;
}

/**
 * Reads a journal written by the `journal` operator (or the command line's `--format jsonl
 * --output`) so that a run can go on where it stopped.
 *
 * A missing file is an empty journal. A last line without its newline (the writer was killed in
 * the middle of it) is cut off the file, so that the next line appended starts on a line of its
 * own. A file that is not a journal (a CSV file, a table, a line that is not a record) is refused
 * with `JOURNAL_INVALID` and left untouched.
 *
 * Final outcomes are classified ones and failures another try would not change; failures at stage
 * `transport` or `timeout`, with code `MODEL_ERROR`, `UNSPECIFIED` (and the other codes of
 * `TRANSIENT_CODES`), and HTTP timeouts, network errors, 429s and 5xx are tried again. A file whose
 * size or modification time changed since its record is read again. When a ref was tried more than
 * once, its last record counts.
 *
 * @example
 * ```ts
 * import { fromDirectory, openJournal } from 'athena-rx/sources';
 * import { journal } from 'athena-rx/operators';
 *
 * const previous = await openJournal('results.jsonl');
 * fromDirectory('./inbox', { skip: previous.skip }).pipe(...pipeline, journal('results.jsonl'));
 * ```
 *
 * @param path - the journal file.
 */
export async function openJournal(path: string): Promise<Journal> {
  assertString('path', path);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') {
      throw new AthenaError('READ_FAILED', `cannot read the journal ${path}`, { cause: error });
    }
    bytes = new Uint8Array(0);
  }
  const parsed = parseJournal(bytes, path);
  if (parsed.tornBytes > 0) {
    await truncate(path, parsed.wholeBytes);
    const handle = await open(path, 'r+');
    await handle.datasync().finally(() => handle.close());
  }
  const records = new Map<string, JournalRecord>();
  for (const record of parsed.records) records.set(record.ref, record);
  let done = 0;
  for (const record of records.values()) if (isFinalRecord(record)) done += 1;
  return {
    path,
    records,
    done,
    truncatedBytes: parsed.tornBytes,
    isFinal: isFinalRecord,
    skip: (ref) => {
      const record = records.get(ref);
      if (record === undefined || !isFinalRecord(record)) return false;
      return record.source === undefined || 'url' in record.source ? true : unchanged(ref, record.source);
    },
  };
}
