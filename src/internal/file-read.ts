import { readFile as fsReadFile } from 'node:fs/promises';
import { AthenaError } from '../errors.js';
import { imageItem, toFailure, type ItemOrFailure } from '../model.js';

/** Reads a whole file. The default is `fs.promises.readFile`; tests and virtual file systems inject their own. */
export type ReadFile = (path: string, signal: AbortSignal) => Promise<Uint8Array>;

export const defaultReadFile: ReadFile = (path, signal) => fsReadFile(path, { signal });

/**
 * Reads one file into an item, or a `read` failure: `READ_FAILED` when the file cannot be read
 * (missing, a directory, no permission, a dangling link), `EMPTY_INPUT` when it has no bytes.
 */
export async function readFileItem(
  readFile: ReadFile,
  path: string,
  index: number,
  signal: AbortSignal,
): Promise<ItemOrFailure> {
  let data: Uint8Array;
  try {
    data = await readFile(path, signal);
  } catch (error) {
    return toFailure({ ref: path, index }, 'read', fileError(path, error));
  }
  if (data.byteLength === 0) {
    return toFailure({ ref: path, index }, 'read', new AthenaError('EMPTY_INPUT', `${path} is empty`));
  }
  return imageItem({ ref: path, data, index });
}

/** A `READ_FAILED` error for a path, naming the system error code when there is one. */
export function fileError(path: string, error: unknown): AthenaError {
  const code = (error as { code?: unknown } | null)?.code;
  const reason = typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
  return new AthenaError('READ_FAILED', `Cannot read ${path}: ${reason}`, { cause: error });
}
