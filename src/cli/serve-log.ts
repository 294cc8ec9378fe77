/**
 * `athena-rx serve --log FILE`: the request log (one JSON line per request received and per output
 * sent, from the service's `onEvent`), and the counter lines printed on SIGUSR1 and at exit.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { type AthenaServerCounters } from '../testing/counters.js';
import { type AthenaServerEvent } from '../testing/events.js';

/** An open request log. */
export interface RequestLog {
  /** Pass as the service's `onEvent`: appends `{"time":...,...event}` and a newline. */
  readonly write: (event: AthenaServerEvent) => void;
  /** Flushes and closes the file. */
  close(): Promise<void>;
}

/**
 * Opens `path` for appending and resolves once it is open (so a bad path fails before the server
 * starts). Events carry ids, formats, sizes and codes only: never image bytes, hashes or tokens.
 */
export async function openRequestLog(path: string): Promise<RequestLog> {
  const stream: WriteStream = createWriteStream(path, { flags: 'a' });
  await Promise.race([
    once(stream, 'open'),
    once(stream, 'error').then(([error]) => Promise.reject(error as Error)),
  ]);
  let failure: Error | undefined;
  stream.on('error', (error) => (failure ??= error));
  return {
    write: (event) => {
      if (failure === undefined)
        stream.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
    },
    close: async () => {
      if (stream.closed) return;
      stream.end();
      await once(stream, 'close');
      if (failure !== undefined) throw failure;
    },
  };
}

/** One line for stdout: `counters {...}` with the server's counters as JSON. */
export function formatCounters(counters: AthenaServerCounters): string {
  return `counters ${JSON.stringify(counters)}\n`;
}
