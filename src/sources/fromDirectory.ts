import { extname } from 'node:path';
import { type Observable } from 'rxjs';
import { toFailure, type ItemOrFailure } from '../model.js';
import { fileError, readFileItem, type ReadFile } from '../internal/input/file-read.js';
import {
  concurrencyOption,
  fromPulled,
  skipOption,
  windowOption,
  type SkipOptions,
} from '../internal/flow/source.js';
import { stallOptions, type SourceFlowOptions } from '../internal/flow/stall.js';
import { imageTelemetrySetup, type ImageTelemetryOptions } from '../telemetry/options.js';
import { limitOptions, type SourceLimitOptions } from '../internal/input/limits.js';
import { assertFunction, assertString } from '../internal/core/validate.js';
import { walk, type WalkEntry } from '../internal/input/walk.js';

/** File extensions `fromDirectory` reads by default: the formats the service accepts. */
export const DEFAULT_IMAGE_EXTENSIONS: readonly string[] = [
  '.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.gif', '.webp', '.bmp', '.dib', '.tif', '.tiff',
  '.pbm', '.pgm', '.ppm', '.pxm', '.pnm', '.pfm', '.sr', '.ras', '.hdr', '.pic',
]; // prettier-ignore

export interface FromDirectoryOptions
  extends SourceFlowOptions, ImageTelemetryOptions, SourceLimitOptions, SkipOptions {
  /** Descend into subdirectories. Default true. */
  readonly recursive?: boolean;
  /** Extensions to read, with or without the dot, case-insensitive; `null` reads every file. */
  readonly extensions?: readonly string[] | null;
  /** Follow symbolic links (each directory is walked once, so loops end). Default false: links are skipped. */
  readonly followSymlinks?: boolean;
  /** Files read at once. Default 4. */
  readonly concurrency?: number;
  /**
   * Reads a whole file, for virtual file systems and tests. The default opens regular files only,
   * without blocking, and checks them with `fstat` before reading; a replacement's bytes are checked
   * against `maxBytes` only once read.
   */
  readonly readFile?: ReadFile;
}

/**
 * Reads the image files under a directory, walking it lazily.
 *
 * ```text
 * inbox/ a.jpg  notes.txt  sub/ b.PNG  gone/ (removed mid-walk)
 * output:  --a------b-----F(read: inbox/sub/gone)--|
 * ```
 *
 * The walk uses `fs.opendir` and reads directory entries in small chunks only as items are pulled,
 * so a directory of a million files is never listed into memory; at most `window` items are read
 * and not yet released (see `releaseLeases`). The walk is depth first; order within a directory is
 * the order the file system gives (not sorted). Every item carries `ref` (the path: `dir` joined with
 * the names below it) and `index` (its position in the walk). A missing root gives one `read`
 * failure and completes; a directory that vanishes or cannot be opened mid-walk, an unreadable file
 * and an empty file (`EMPTY_INPUT`) each give one `read` failure and the walk goes on. Files are
 * read as `fromFiles` reads them: regular files only, under `maxBytes` (`FILE_TOO_LARGE`), a file
 * over 64 KiB judged from its first bytes before the rest is read. Nothing
 * happens before subscribe; unsubscribing stops the walk, closes its directory handles and aborts
 * the reads in flight.
 *
 * @example
 * ```ts
 * import { fromDirectory } from 'athena-rx/sources';
 *
 * fromDirectory('./inbox', { extensions: ['jpg', 'png'], window: 16 });
 * ```
 *
 * With telemetry (`tracerProvider`, `meterProvider`, `traceImages`, `traceRefs`: see
 * `ImageTelemetryOptions` and docs/observability.md), each image's trace starts when its read does.
 *
 * @param dir - the root directory.
 * @param options - `recursive` (true), `extensions` ({@link DEFAULT_IMAGE_EXTENSIONS}),
 *   `followSymlinks` (false), `window` (32), `concurrency` (4), `maxBytes` (256 MiB), `maxPixels`
 *   (100,000,000): see `SourceLimitOptions`; `skip` (a file whose path it answers `true` for is left
 *   out before it is read); `readFile`,
 *   `windowStallWarnMs` (30,000), `events`, `scheduler`: see `SourceFlowOptions`.
 */
export function fromDirectory(dir: string, options: FromDirectoryOptions = {}): Observable<ItemOrFailure> {
  assertString('dir', dir);
  const recursive = flag('recursive', options.recursive, true);
  const followSymlinks = flag('followSymlinks', options.followSymlinks, false);
  const accept = extensionFilter(
    options.extensions === undefined ? DEFAULT_IMAGE_EXTENSIONS : options.extensions,
  );
  const window = windowOption(options.window);
  const skip = skipOption(options.skip);
  const stall = stallOptions(options);
  const telemetry = imageTelemetrySetup(options);
  const concurrency = concurrencyOption(options.concurrency, 4);
  const limits = limitOptions(options);
  const readFile =
    options.readFile === undefined ? undefined : assertFunction<ReadFile>('readFile', options.readFile);
  return fromPulled<WalkEntry>(
    () => walk(dir, { recursive, followSymlinks, accept }),
    (entry, index, signal) =>
      entry.error === undefined
        ? readFileItem(readFile, entry.path, index, signal, limits)
        : [toFailure({ ref: entry.path, index }, 'read', fileError(entry.path, entry.error))],
    // A walk error is reported, never skipped: it names a folder, not an input done before.
    {
      window,
      concurrency,
      ...stall,
      telemetry,
      skip: skip && ((entry) => entry.error === undefined && skip(entry.path)),
    },
  );
}

function flag(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean`);
  return value;
}

function extensionFilter(extensions: unknown): (name: string) => boolean {
  if (extensions === null) return () => true;
  if (!Array.isArray(extensions)) throw new TypeError('extensions must be an array of strings or null');
  const wanted = new Set(
    extensions.map((extension: unknown, i) => {
      const text = assertString(`extensions[${i}]`, extension).toLowerCase();
      return text.startsWith('.') ? text : `.${text}`;
    }),
  );
  if (wanted.size === 0) throw new RangeError('extensions must not be empty; pass null to read every file');
  return (name) => wanted.has(extname(name).toLowerCase());
}
