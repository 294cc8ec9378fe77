/**
 * The base64 forms a secret takes inside a longer base64 (or base64url) text, without `Buffer`, so the
 * scrubber stays usable from browser bundles.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 of `bytes`, without `=` padding. */
export function base64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] as number;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    out += ALPHABET.charAt(n >> 18) + ALPHABET.charAt((n >> 12) & 63);
    if (b !== undefined) out += ALPHABET.charAt((n >> 6) & 63);
    if (c !== undefined) out += ALPHABET.charAt(n & 63);
  }
  return out;
}

/**
 * The characters of base64 that depend on `value`'s UTF-8 bytes alone, for each of the three offsets
 * (mod 3) those bytes can start at in a longer byte string: the characters that mix in a neighbouring
 * byte are left out at both ends. Standard and base64url alphabets; duplicates removed.
 */
export function base64Cores(value: string): string[] {
  const bytes = new TextEncoder().encode(value);
  const cores = new Set<string>();
  for (let offset = 0; offset < 3; offset += 1) {
    const shifted = new Uint8Array(offset + bytes.length);
    shifted.set(bytes, offset);
    const encoded = base64(shifted);
    const start = Math.ceil((offset * 4) / 3); // 0, 2 or 3 characters still carry the leading bytes
    const end = encoded.length - ((offset + bytes.length) % 3 === 0 ? 0 : 1);
    const core = encoded.slice(start, end);
    if (core.length > 0) {
      cores.add(core);
      cores.add(core.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return [...cores];
}
