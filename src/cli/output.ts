import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
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

/** Standard output, or a file created (truncated) for `--output`; a file that cannot be created is `WRITE_FAILED`. */
export async function openOutput(file: string | undefined): Promise<Output> {
  if (!file) return { stream: process.stdout, close: async () => undefined };
  const stream = createWriteStream(file);
  try {
    await once(stream, 'open');
  } catch (error) {
    throw new AthenaError('WRITE_FAILED', `cannot write ${file}: ${reason(error)}`, { cause: error });
  }
  return {
    stream,
    close: async () => {
      if (stream.destroyed) return;
      stream.end();
      await once(stream, 'finish');
    },
  };
}
