import { type Observable } from 'rxjs';
import { AthenaError } from '../errors.js';
import { toFailure, type ItemOrFailure } from '../model.js';
import { readFileItem, type ReadFile } from '../internal/input/file-read.js';
import {
  concurrencyOption,
  fromPulled,
  isPullable,
  skipOption,
  windowOption,
  type SkipOptions,
} from '../internal/flow/source.js';
import { stallOptions, type SourceFlowOptions } from '../internal/flow/stall.js';
import { imageTelemetrySetup, type ImageTelemetryOptions } from '../telemetry/options.js';
import { limitOptions, type SourceLimitOptions } from '../internal/input/limits.js';
import { assertFunction } from '../internal/core/validate.js';

export interface FromFilesOptions
  extends SourceFlowOptions, ImageTelemetryOptions, SourceLimitOptions, SkipOptions {
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
 * Reads image files, one item per path, lazily and under a credit window.
 *
 * ```text
 * paths:   a.jpg  missing.jpg  empty.jpg  b.png
 * output:  --a----F(read,READ_FAILED)---F(read,EMPTY_INPUT)---b--|
 * ```
 *
 * Nothing is read before subscribe, and each subscription iterates `paths` again (a one-shot
 * iterator or generator yields nothing the second time). At most `concurrency` files are read at
 * once and at most `window` items are read and not yet released (see `releaseLeases`); items come
 * out in the order of `paths`. Every item carries `ref` (the path as given) and `index` (its
 * position in `paths`). A path that cannot be read (missing, a directory, a FIFO, socket or device,
 * no permission, a dangling link) gives a `read` failure with code `READ_FAILED`, a file over
 * `maxBytes` `FILE_TOO_LARGE`, an empty file `EMPTY_INPUT`; the stream goes on. Files are opened
 * without blocking and checked with `fstat` before a byte is read, and a file over 64 KiB is judged
 * from its first bytes (`UNSUPPORTED_FORMAT`, `IMAGE_TOO_MANY_PIXELS` over `maxPixels`) before the
 * rest is read. Unsubscribing aborts the reads in flight and closes the `paths` iterator.
 *
 * @example
 * ```ts
 * import { fromFiles } from 'athena-rx/sources';
 * import { hashImage, releaseLeases } from 'athena-rx/operators';
 *
 * fromFiles(['a.jpg', 'b.png'], { concurrency: 2 }).pipe(hashImage(), releaseLeases()).subscribe(console.log);
 * ```
 *
 * With telemetry (`tracerProvider`, `meterProvider`, `traceImages`, `traceRefs`: see
 * `ImageTelemetryOptions` and docs/observability.md), each image's trace starts when its read does.
 *
 * @param paths - file paths, synchronously or asynchronously iterable.
 * With `skip`, a path it answers `true` for is left out before it is read: no item, no failure
 * (see `openJournal` for resuming a run).
 *
 * @param options - `window` (default 32), `concurrency` (default 4), `maxBytes` (256 MiB),
 *   `maxPixels` (100,000,000): see `SourceLimitOptions`; `skip`; `readFile`,
 *   `windowStallWarnMs` (30,000), `events`, `scheduler`: see `SourceFlowOptions`.
 */
export function fromFiles(
  paths: Iterable<string> | AsyncIterable<string>,
  options: FromFilesOptions = {},
): Observable<ItemOrFailure> {
  if (typeof paths === 'string' || !isPullable(paths)) {
    throw new TypeError('paths must be an iterable or async iterable of strings');
  }
  const window = windowOption(options.window);
  const skip = skipOption(options.skip);
  const stall = stallOptions(options);
  const telemetry = imageTelemetrySetup(options);
  const concurrency = concurrencyOption(options.concurrency, 4);
  const limits = limitOptions(options);
  const readFile =
    options.readFile === undefined ? undefined : assertFunction<ReadFile>('readFile', options.readFile);
  return fromPulled<unknown>(
    () => paths,
    (path, index, signal) =>
      typeof path === 'string' && path.length > 0
        ? readFileItem(readFile, path, index, signal, limits)
        : [
            toFailure(
              { ref: String(path), index },
              'read',
              new AthenaError('INVALID_INPUT', `paths[${index}] is not a file path`),
            ),
          ],
    { window, concurrency, ...stall, telemetry, skip: skip && ((path) => skip(String(path))) },
  );
}
