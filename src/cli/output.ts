import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { AthenaError } from '../errors.js';

export interface Output {
  stream: NodeJS.WritableStream;
  close(): Promise<void>;
}

function reason(error: unknown): string {
  switch ((error as { code?: unknown } | null)?.code) {
    case 'ENOENT':
      return 'its folder does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a folder';
    case 'EROFS':
      return 'the file system is read-only';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Standard output, or a file created (truncated, or with `append` appended to) for `--output`; a
 * file that cannot be created is `WRITE_FAILED`.
 */
export async function openOutput(file: string | undefined, append = false): Promise<Output> {
  if (!file) return { stream: process.stdout, close: async () => undefined };
  const stream = createWriteStream(file, { flags: append ? 'a' : 'w' });
  try {
    await once(stream, 'open');
  } catch (error) {
    throw new AthenaError('WRITE_FAILED', `cannot write ${file}: ${reason(error)}`, { cause: error });
  }
  let closed = false;
  return {
    stream,
    close: async () => {
      if (closed || stream.destroyed) return;
      closed = true;
      stream.end();
      await once(stream, 'finish');
    },
  };
}

/**
 * Refuses to replace results: an `--output` that is a regular file with content is `OUTPUT_EXISTS`
 * unless `force` (or `resume`, which appends to it).
 */
export async function checkOutput(file: string, force: boolean): Promise<void> {
  if (force) return;
  const stats = await stat(file).catch(() => undefined);
  if (stats?.isFile() && stats.size > 0) {
    throw new AthenaError('OUTPUT_EXISTS', `${file} exists and holds results; it is not overwritten`);
  }
}
