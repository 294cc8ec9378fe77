import { readFile } from 'node:fs/promises';
import { type AthenaFaults } from '../testing/faults.js';
import { startAthenaServer } from '../testing/server.js';
import { formatCounters, openRequestLog } from './serve-log.js';
import { describeServeSecurity, resolveServeSecurity, type ServeSecurityFlags } from './serve-security.js';

export interface ServeOptions extends ServeSecurityFlags {
  host: string;
  port: number;
  knownHashes?: string;
  token?: string[];
  affiliate?: string[];
  /** Faults as JSON (`AthenaFaults` without functions), e.g. `{"stall":true}`. */
  faults?: string;
  /** Request log: one JSON line per request and per output, appended to this file. */
  log?: string;
}

/** Parses `--faults`: a JSON object; the server validates its fields. */
export function parseFaults(json: string): AthenaFaults {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new TypeError('--faults must be a JSON object, e.g. {"latencyMs":50}');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('--faults must be a JSON object, e.g. {"latencyMs":50}');
  }
  return value as AthenaFaults;
}

/** Reads hex digests, one per line (`#` comments and blank lines skipped; a first column of CSV is used). */
export function parseHashList(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map(
      (line) =>
        line
          .replace(/#.*/, '')
          .split(/[\s,]+/)[0]
          ?.trim() ?? '',
    )
    .filter((value) => /^[0-9a-fA-F]{32}$|^[0-9a-fA-F]{40}$/.test(value))
    .map((value) => value.toLowerCase());
}

/**
 * `athena-rx serve`: runs the embedded server until SIGINT or SIGTERM, then shuts down gracefully
 * (open Classify streams end with `UNAVAILABLE`, other calls get the close grace period). Prints
 * the counters on SIGUSR1 and once more after stopping.
 */
export async function serve(options: ServeOptions, out: NodeJS.WritableStream): Promise<number> {
  const knownHashes = options.knownHashes ? parseHashList(await readFile(options.knownHashes, 'utf8')) : [];
  const security = await resolveServeSecurity(options);
  const log = options.log !== undefined ? await openRequestLog(options.log) : undefined;
  const server = await startAthenaServer({
    ...(security.tls && { tls: security.tls }),
    ...(security.oauth && { oauth: security.oauth }),
    ...(log !== undefined ? { onEvent: log.write } : {}),
    host: options.host,
    port: options.port,
    knownHashes,
    ...(options.faults !== undefined ? { faults: parseFaults(options.faults) } : {}),
    ...(options.token && options.token.length > 0 ? { auth: { tokens: options.token } } : {}),
    ...(options.affiliate && options.affiliate.length > 0 ? { affiliates: options.affiliate } : {}),
  });
  out.write(
    describeServeSecurity(server, security) +
      `athena-rx embedded server listening on ${server.address} (${server.tls ? 'TLS' : 'plaintext'}` +
      `${options.token?.length || server.oauth ? ', bearer tokens required' : ''}, ${knownHashes.length} known hashes)\n`,
  );
  const printCounters = (): void => void out.write(formatCounters(server.counters));
  process.on('SIGUSR1', printCounters);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  process.off('SIGUSR1', printCounters);
  await log?.close();
  printCounters();
  out.write('athena-rx embedded server stopped\n');
  return 0;
}
