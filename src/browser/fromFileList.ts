import { type Observable } from 'rxjs';
import { AthenaError } from '../errors.js';
import { concurrencyOption, fromPulled, windowOption } from '../internal/flow/source.js';
import { stallOptions, type SourceFlowOptions } from '../internal/flow/stall.js';
import {
  HEAD_BYTES,
  judgeHead,
  limitOptions,
  tooLarge,
  type SourceLimitOptions,
} from '../internal/input/limits.js';
import { assertFunction } from '../internal/core/validate.js';
import { imageItem, toFailure, type ItemOrFailure } from '../model.js';
import type { BlobLike, FileListLike } from './web.js';

/** Names an input: its `ref` on items and failures. */
export type BlobRef = (file: BlobLike, index: number) => string;

export interface FromFileListOptions extends SourceFlowOptions, SourceLimitOptions {
  /** Items read and not yet released (see `releaseLeases`). Default 32. */
  readonly window?: number;
  /** Files read at once. Default 4. */
  readonly concurrency?: number;
  /** The `ref` of each input. Default: a `File`'s name, `blob-<index>` for a nameless `Blob`. */
  readonly ref?: BlobRef;
}

/**
 * The files a user picked or dropped, one item per file, read lazily under the same credit window
 * as the Node sources.
 *
 * ```text
 * files:   a.jpg  empty.png  notes.txt(100 KB)  b.webp
 * output:  --a----F(read,EMPTY_INPUT)---F(read,UNSUPPORTED_FORMAT)---b--|
 * ```
 *
 * Takes a `FileList` (from `<input type="file">` or a drop's `dataTransfer.files`), or an array of
 * `File`s or `Blob`s. Nothing is read before subscribe; each subscription reads the files again. At
 * most `concurrency` files are read at once and at most `window` items are read and not yet
 * released (see `releaseLeases`); items come out in the order of `files`, with `ref` (the file's
 * name, or `options.ref`) and `index`. A file over `maxBytes` fails with `FILE_TOO_LARGE` before a
 * byte is read, an empty one with `EMPTY_INPUT`, and a file over 64 KiB is judged from its first
 * bytes (`UNSUPPORTED_FORMAT`, `IMAGE_TOO_MANY_PIXELS` over `maxPixels`) before the rest is read;
 * all at stage `read`, and the stream goes on. A file that cannot be read (removed since it was
 * picked) gives `READ_FAILED`.
 *
 * @example
 * ```ts ignore
 * import { fromFileList, hashImage, resize } from 'athena-rx/browser';
 *
 * fromFileList(event.dataTransfer.files).pipe(hashImage(), resize({ worker }));
 * ```
 *
 * @param files - a `FileList`, or an array of `File` or `Blob`.
 * @param options - `window` (default 32), `concurrency` (4), `maxBytes` (256 MiB), `maxPixels`
 *   (100,000,000), `ref`, `windowStallWarnMs` (30,000), `events`, `scheduler`: see `SourceFlowOptions`.
 */
export function fromFileList(
  files: FileListLike | readonly BlobLike[],
  options: FromFileListOptions = {},
): Observable<ItemOrFailure> {
  if (!isFileList(files) && !(Array.isArray(files) && files.every(isBlob))) {
    throw new TypeError('files must be a FileList, or an array of File or Blob');
  }
  const window = windowOption(options.window);
  const concurrency = concurrencyOption(options.concurrency, 4);
  const stall = stallOptions(options);
  const limits = limitOptions(options);
  const ref = options.ref === undefined ? defaultRef : assertFunction<BlobRef>('ref', options.ref);
  return fromPulled<BlobLike>(
    () => (Array.isArray(files) ? [...(files as readonly BlobLike[])] : listed(files as FileListLike)),
    async (file, index, signal) => {
      const name = String(ref(file, index));
      const fail = (error: AthenaError): ItemOrFailure => toFailure({ ref: name, index }, 'read', error);
      if (file.size > limits.maxBytes) return fail(tooLarge(name, limits.maxBytes, file.size));
      if (file.size === 0) return fail(new AthenaError('EMPTY_INPUT', `${name} is empty`));
      try {
        if (file.size > HEAD_BYTES) {
          const head = new Uint8Array(await file.slice(0, HEAD_BYTES).arrayBuffer());
          const verdict = judgeHead(name, head, limits);
          if (verdict !== undefined) return fail(verdict);
        }
        signal.throwIfAborted();
        const data = new Uint8Array(await file.arrayBuffer());
        if (data.byteLength === 0) return fail(new AthenaError('EMPTY_INPUT', `${name} is empty`));
        return imageItem({ ref: name, data, index });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        return fail(new AthenaError('READ_FAILED', `Cannot read ${name}: ${reason}`, { cause: error }));
      }
    },
    { window, concurrency, ...stall },
  );
}

function defaultRef(file: BlobLike, index: number): string {
  return typeof file.name === 'string' && file.name.length > 0 ? file.name : `blob-${index}`;
}

/** The files of a `FileList` as an array, taken when a subscription starts. */
function listed(list: FileListLike): BlobLike[] {
  const files: BlobLike[] = [];
  for (let i = 0; i < list.length; i++) {
    const file = list.item(i);
    if (file) files.push(file);
  }
  return files;
}

function isFileList(value: unknown): value is FileListLike {
  const list = value as Partial<FileListLike> | null;
  return (
    typeof list === 'object' &&
    list !== null &&
    !Array.isArray(list) &&
    typeof list.length === 'number' &&
    typeof list.item === 'function'
  );
}

function isBlob(value: unknown): value is BlobLike {
  const blob = value as Partial<BlobLike> | null;
  return (
    typeof blob === 'object' &&
    blob !== null &&
    typeof blob.size === 'number' &&
    typeof blob.slice === 'function' &&
    typeof blob.arrayBuffer === 'function'
  );
}
