/**
 * Fatal errors of the command line, explained: a code of the AthenaError family, a message without
 * transport noise (OpenSSL source paths, an empty "Resolution note") and a hint on what to do.
 */
import { AthenaError, type AthenaErrorCode } from '../errors.js';

/** What the command prints for a fatal error. */
export interface FatalReport {
  readonly code: AthenaErrorCode;
  readonly message: string;
  readonly hint?: string;
}

const HINTS: Partial<Record<AthenaErrorCode, string>> = {
  ADDRESS_IN_USE: 'another process listens there: stop it, or pick another --port (0 picks a free one)',
  OUTPUT_EXISTS:
    'with --format jsonl, --resume continues the run it records; --force overwrites it; or pick another --output',
  JOURNAL_INVALID: '--resume continues a file written by --format jsonl --output; pick another --output',
  WRITE_FAILED: 'check that the folder exists and is writable, or leave out --output to write to stdout',
  TLS_MISMATCH:
    'the server speaks plaintext: add --insecure if it is on a loopback address (127.0.0.1, ::1, localhost)',
  CERTIFICATE_INVALID:
    "trust the server's CA with --root-certs <file>, and check that --address names the certificate's host",
  DNS_FAILED: 'check the host name in --address or ATHENA_ADDRESS',
  NO_INPUT: 'give image files, directories (-r walks subfolders), URLs, --from-file <file> or - for stdin',
  UNAUTHENTICATED: 'check the token or the client credentials (ATHENA_TOKEN, ATHENA_CLIENT_ID/SECRET)',
  REDIS_ERROR: 'check --redis (redis:// or rediss://, password, port) and that Redis 6.2 or later is running',
  INSECURE_TRANSPORT: 'use TLS (leave out --insecure), or a loopback address for a local server',
};

const CONNECTION_REFUSED_HINT = 'is the service running at that address? Check --address or ATHENA_ADDRESS';

/** Every message along the cause chain, for pattern checks. */
function allText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    if (current instanceof Error) {
      parts.push(current.message);
      const details = (current as { details?: unknown }).details;
      if (typeof details === 'string') parts.push(details);
      const errors = (current as { errors?: unknown }).errors;
      if (Array.isArray(errors)) parts.push(...errors.map((e) => String((e as Error)?.message ?? e)));
      current = current.cause;
    } else {
      parts.push(String(current));
      current = undefined;
    }
  }
  return parts.join(' | ');
}

/** Removes grpc-js and OpenSSL noise: empty resolution notes, OpenSSL codes and source paths. */
export function cleanMessage(message: string): string {
  return message
    .replace(/\.?\s*Resolution note:\s*(?=$|\n)/g, '')
    .replace(/Error: [0-9A-F]{8,}:error:[0-9A-F]+:SSL routines:[a-z0-9_]*:([^:]+):[^\s]*/g, 'TLS error: $1')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/[\s:.]+$/, '')
    .trim();
}

function addressIn(text: string): string | undefined {
  return /address already in use ([^\s\]]+)/.exec(text)?.[1];
}

/** Explains a fatal error: its code (specific where the cause is recognised), a clean message, a hint. */
export function explainFatal(error: unknown): FatalReport {
  const e = AthenaError.from(error);
  const text = allText(error);
  if (/EADDRINUSE/.test(text)) {
    const at = addressIn(text);
    return report('ADDRESS_IN_USE', `cannot listen${at ? ` on ${at}` : ''}: the address is already in use`);
  }
  if (['WRITE_FAILED', 'NO_INPUT', 'OUTPUT_EXISTS', 'JOURNAL_INVALID', 'REDIS_ERROR'].includes(e.code))
    return report(e.code, cleanMessage(e.message));
  if (/wrong version number|packet length too long|unknown protocol|http request/i.test(text)) {
    return report(
      'TLS_MISMATCH',
      'the TLS handshake failed: the server answered in plaintext (wrong version number)',
    );
  }
  const cert =
    /self[- ]signed certificate|unable to (?:get|verify)[^|]*certificate|certificate has expired|certificate verify failed|Hostname\/IP does not match|ERR_TLS_CERT|CERT_[A-Z_]+/i.exec(
      text,
    );
  if (cert) return report('CERTIFICATE_INVALID', `the server's certificate was refused: ${cert[0]}`);
  const dns = /Name resolution failed for target (?:dns:)?(\S+)|(?:ENOTFOUND|EAI_AGAIN) (\S+)/.exec(text);
  if (dns) return report('DNS_FAILED', `the host name does not resolve: ${dns[1] ?? dns[2] ?? ''}`.trim());
  const message = cleanMessage(e.message);
  if (/ECONNREFUSED|Connection refused/i.test(text)) {
    return { code: e.code, message: `${message} (connection refused)`, hint: CONNECTION_REFUSED_HINT };
  }
  return report(e.code, message);
}

function report(code: AthenaErrorCode, message: string): FatalReport {
  const hint = HINTS[code];
  return hint === undefined ? { code, message } : { code, message, hint };
}

/** The lines printed for a fatal error: `athena-rx: CODE: message`, then the hint. */
export function formatFatal(fatal: FatalReport): string {
  return `athena-rx: ${fatal.code}: ${fatal.message}\n${fatal.hint ? `  hint: ${fatal.hint}\n` : ''}`;
}
