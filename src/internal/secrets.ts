/**
 * Secrets the library holds (access tokens, client secrets, passwords) and the scrubbing of any text
 * that may carry them back: a server's status details, a token endpoint's error, an echoed header.
 * Every text built from what a peer sent goes through {@link scrubText} before it reaches a message,
 * `details`, an event or a log line.
 */

/** Longest text kept from a peer's answer, in characters; the rest is cut with a marker. */
export const MAX_PEER_TEXT = 1024;

/** How many secrets are remembered (the most recently registered); tokens rotate, so old ones go. */
const MAX_SECRETS = 256;

const known = new Set<string>();

/** Remembers a secret, so that {@link scrubText} removes it from any text. Short values are ignored. */
export function registerSecret(value: string | undefined): void {
  if (typeof value !== 'string' || value.length < 4) return;
  known.delete(value);
  known.add(value);
  if (known.size > MAX_SECRETS) known.delete(known.values().next().value as string);
}

/**
 * `text` with every registered secret (and `extra` ones) replaced by `<redacted>`, in any letter case,
 * URL-encoded or base64-encoded, then cut to `limit` characters with a marker saying how much was cut.
 */
export function scrubText(
  text: string,
  extra: readonly (string | undefined)[] = [],
  limit = MAX_PEER_TEXT,
): string {
  let out = String(text);
  for (const secret of [...known, ...extra]) {
    if (typeof secret !== 'string' || secret.length < 4) continue;
    for (const form of forms(secret)) out = replaceAll(out, form);
  }
  return cap(out, limit);
}

/** `text` cut to `limit` characters, with a marker naming how many were cut. */
export function cap(text: string, limit = MAX_PEER_TEXT): string {
  if (text.length <= limit) return text;
  return `${text.slice(0, limit)}… [${text.length - limit} more characters cut]`;
}

function forms(secret: string): string[] {
  const out = new Set<string>([secret, encodeURIComponent(secret)]);
  const bytes = Buffer.from(secret, 'utf8');
  // base64 of the secret at each of the three alignments it can take inside a longer base64 text
  for (let pad = 0; pad < 3; pad += 1) {
    const encoded = Buffer.concat([Buffer.alloc(pad), bytes]).toString('base64');
    const start = pad === 0 ? 0 : Math.ceil((pad * 4) / 3) + (pad === 2 ? 0 : 0);
    const end = encoded.replace(/=+$/, '').length - ((pad + bytes.length) % 3 === 0 ? 0 : 1);
    const core = encoded.slice(start, end);
    if (core.length >= 4) out.add(core);
  }
  return [...out];
}

function replaceAll(text: string, secret: string): string {
  const lower = text.toLowerCase();
  const needle = secret.toLowerCase();
  let at = lower.indexOf(needle);
  if (at < 0) return text;
  let out = '';
  let from = 0;
  while (at >= 0) {
    out += `${text.slice(from, at)}<redacted>`;
    from = at + needle.length;
    at = lower.indexOf(needle, from);
  }
  return out + text.slice(from);
}
