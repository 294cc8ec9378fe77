/**
 * Reading one file into an item for `fromFiles` and `fromDirectory`, safely: the file is opened
 * without blocking and checked with `fstat` before a byte is read, so a FIFO, socket or device fails
 * at once instead of holding a libuv thread forever, a file over the size cap fails from its size
 * alone, and a large file whose first bytes are no image is never read whole.
 */
import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { AthenaError } from '../../errors.js';
import { imageItem, toFailure, type ItemOrFailure } from '../../model.js';
import { HEAD_BYTES, judgeHead, tooLarge, type SourceLimits } from './limits.js';

/** Reads a whole file. The default opens regular files only, under the size cap; tests and virtual file systems inject their own. */
export type ReadFile = (path: string, signal: AbortSignal) => Promise<Uint8Array>;

/** Read only, and never wait in `open()` (a FIFO without a writer, a device). No effect on regular files. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * Reads one file into an item, or a `read` failure: `READ_FAILED` when the file cannot be read
 * (missing, a directory, not a regular file, no permission, a dangling link), `FILE_TOO_LARGE` over
 * `limits.maxBytes`, `UNSUPPORTED_FORMAT` or `IMAGE_TOO_MANY_PIXELS` when a file larger than its head
 * is judged from it, `EMPTY_INPUT` when it has no bytes. `readFile` replaces the safe default; its
 * bytes are checked against the cap only once it has read them.
 */
export async function readFileItem(
  readFile: ReadFile | undefined,
  path: string,
  index: number,
  signal: AbortSignal,
  limits: SourceLimits,
): Promise<ItemOrFailure> {
  const fail = (error: AthenaError): ItemOrFailure => toFailure({ ref: path, index }, 'read', error);
  let data: Uint8Array;
  try {
    data =
      readFile === undefined ? await readRegularFile(path, signal, limits) : await readFile(path, signal);
  } catch (error) {
    return fail(error instanceof AthenaError ? error : fileError(path, error));
  }
  if (data.byteLength === 0) return fail(new AthenaError('EMPTY_INPUT', `${path} is empty`));
  if (data.byteLength > limits.maxBytes) return fail(tooLarge(path, limits.maxBytes, data.byteLength));
  return imageItem({ ref: path, data, index });
}

/** A `READ_FAILED` error for a path, naming the system error code when there is one. */
export function fileError(path: string, error: unknown): AthenaError {
  const code = (error as { code?: unknown } | null)?.code;
  const reason = typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
  return new AthenaError('READ_FAILED', `Cannot read ${path}: ${reason}`, { cause: error });
}

/**
 * Opens without blocking, checks the open file with `fstat` (regular, within the cap), reads its
 * first bytes and judges them when the file is larger, then reads the rest. Throws `AthenaError`s
 * for what it refuses, system errors otherwise.
 */
async function readRegularFile(path: string, signal: AbortSignal, limits: SourceLimits): Promise<Uint8Array> {
  signal.throwIfAborted();
  const handle = await open(path, OPEN_FLAGS);
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new AthenaError('READ_FAILED', `Cannot read ${path}: ${kindOf(info)}, not a regular file`);
    }
    if (info.size > limits.maxBytes) throw tooLarge(path, limits.maxBytes, info.size);
    // The head first: a large file is judged from it before memory is taken for the whole.
    const head = Buffer.allocUnsafeSlow(Math.min(info.size, HEAD_BYTES));
    const got = await fill(handle, head, 0, head.byteLength, signal);
    if (info.size <= HEAD_BYTES || got < HEAD_BYTES)
      return got === head.byteLength ? head : head.subarray(0, got);
    const verdict = judgeHead(path, head, limits);
    if (verdict !== undefined) throw verdict;
    const data = Buffer.allocUnsafeSlow(info.size);
    data.set(head);
    const filled = await fill(handle, data, HEAD_BYTES, info.size, signal);
    // A file that shrank while it was read gives what it had.
    return filled === info.size ? data : data.subarray(0, filled);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Reads into `data` from `from` up to `to`, or to the end of the file; answers where it stopped. */
async function fill(
  handle: FileHandle,
  data: Buffer,
  from: number,
  to: number,
  signal: AbortSignal,
): Promise<number> {
  let at = from;
  while (at < to) {
    signal.throwIfAborted();
    const { bytesRead } = await handle.read(data, at, Math.min(to - at, 8 * 1024 * 1024), at);
    if (bytesRead === 0) break;
    at += bytesRead;
  }
  return at;
}

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'EISDIR, a directory';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  return 'a special file';
}
