import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export interface Output {
  stream: NodeJS.WritableStream;
  close(): Promise<void>;
}

/** Standard output, or a file created (truncated) for `--output`. */
export async function openOutput(file: string | undefined): Promise<Output> {
  if (!file) return { stream: process.stdout, close: async () => undefined };
  const stream = createWriteStream(file);
  await once(stream, 'open');
  return {
    stream,
    close: async () => {
      stream.end();
      await once(stream, 'finish');
    },
  };
}
