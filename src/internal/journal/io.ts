/**
 * The journal's Node I/O: a file opened for appending (each line written whole, then synced when
 * asked) and the source facts of a ref (a file's size and modification time, a URL without its
 * query). `node:fs` is imported on first use (as `#node-fs`), so the operators' entry point bundles
 * for browsers without it.
 */
import {
  catchError,
  defaultIfEmpty,
  from,
  take,
  throwError,
  type Observable,
  type ObservableInput,
} from 'rxjs';
import { AthenaError } from '../../errors.js';
import type { SourceFacts } from './record.js';

/** A journal file opened for appending, as the `journal` operator's `open` option gives it. */
export interface JournalWriter {
  /** Appends whole lines at the end of the file. */
  append(text: string): ObservableInput<unknown>;
  /** Writes what was appended through to the disk. */
  sync(): ObservableInput<unknown>;
  close(): ObservableInput<unknown>;
}

/** The default {@link JournalWriter}, over a Node file handle. */
export interface JournalFile extends JournalWriter {
  /** Appends `text` (whole lines) at the end of the file. */
  append(text: string): Promise<void>;
  /** Writes what was appended through to the disk (`fdatasync`). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** One step of a writer as an Observable: its first value (or none), its failure a `WRITE_FAILED`. */
export function writerStep<T>(input: ObservableInput<T>): Observable<T | undefined> {
  return from(input).pipe(
    take(1),
    defaultIfEmpty(undefined),
    catchError((error: unknown) => throwError(() => AthenaError.from(error, 'WRITE_FAILED'))),
  );
}

/** Opens (creating it if need be) a file for appending; `WRITE_FAILED` when it cannot. */
export async function openAppend(path: string): Promise<JournalFile> {
  const fs = await import('#node-fs');
  let handle: Awaited<ReturnType<typeof fs.open>>;
  try {
    handle = await fs.open(path, 'a');
  } catch (error) {
    throw writeFailed(path, error);
  }
  let closed = false;
  return {
    append: async (text) => {
      try {
        await handle.appendFile(text, 'utf8');
      } catch (error) {
        throw writeFailed(path, error);
      }
    },
    sync: async () => {
      try {
        await handle.datasync();
      } catch (error) {
        throw writeFailed(path, error);
      }
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await handle.close();
    },
  };
}

function writeFailed(path: string, error: unknown): AthenaError {
  const code = (error as { code?: unknown } | null)?.code;
  const reason = typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
  return new AthenaError('WRITE_FAILED', `cannot write the journal ${path}: ${reason}`, { cause: error });
}

/**
 * The facts of a ref: for an http(s) ref its text without the query (`?<redacted>` cut off), for a
 * regular file its size and modification time, otherwise (a buffer's name, a missing file) none.
 */
export async function sourceFacts(ref: string): Promise<SourceFacts | undefined> {
  if (/^https?:\/\//i.test(ref)) return { url: ref.replace(/[?#].*$/s, '') };
  const fs = await import('#node-fs');
  try {
    const stats = await fs.stat(ref);
    return stats.isFile() ? { size: stats.size, mtimeMs: stats.mtimeMs } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `facts` still describe the input at `ref`: same file size and modification time. */
export async function unchanged(ref: string, facts: SourceFacts | undefined): Promise<boolean> {
  if (facts === undefined || 'url' in facts) return true;
  const now = await sourceFacts(ref);
  return now !== undefined && 'size' in now && now.size === facts.size && now.mtimeMs === facts.mtimeMs;
}
