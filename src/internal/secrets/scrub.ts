/**
 * Secrets the library holds (access tokens, client secrets, passwords) and the scrubbing of any text
 * that may carry them back: a server's status details, a token endpoint's error, an echoed header.
 * Every text built from what a peer sent goes through {@link scrubText} before it reaches a message,
 * `details`, an event or a log line. Browser-safe: no `node:*` import, no `Buffer`.
 *
 * A secret is found in any letter case, percent-encoded character by character in any mix
 * (`encodeURIComponent`, form style with `+` for a space, upper- or lower-case hex), and as base64 or
 * base64url at each of the three byte alignments it can take inside a longer encoded text. Matches
 * of different secrets that overlap are removed as one.
 */
import { base64Cores } from './base64.js';

/** Longest text kept from a peer's answer, in characters; the rest is cut with a marker. */
export const MAX_PEER_TEXT = 1024;

/** How many secrets are remembered (the most recently registered); tokens rotate, so old ones go. */
const MAX_SECRETS = 256;
/** Shorter values are not secrets worth scrubbing (they would cut ordinary words apart). */
const MIN_SECRET = 4;
/** A text that ends in this many leading characters of a secret (or more) loses them. */
const MIN_PREFIX = 6;
const REDACTED = '<redacted>';
const PERCENT = 37;
const PLUS = 43;
const SPACE = 32;

/** One character of a secret: its case-folded code units, and its `%xx` escape of the UTF-8 bytes. */
interface Unit {
  readonly literal: readonly number[];
  readonly escape: readonly number[];
  readonly space: boolean;
}
type Pattern = readonly Unit[];
/**
 * Patterns by how a match can start: the first two code units it can begin with (folded; `%` for an
 * escaped second character), or the byte the escape of its first character begins with.
 */
interface Index {
  readonly byPair: ReadonlyMap<number, readonly Pattern[]>;
  readonly byEscape: ReadonlyMap<number, readonly Pattern[]>;
  /** Longest text a match can span. */
  readonly maxText: number;
}

const known = new Set<string>();
let registryIndex: Index | undefined;

/** Remembers a secret, so that {@link scrubText} removes it from any text. Short values are ignored. */
export function registerSecret(value: string | undefined): void {
  if (typeof value !== 'string' || value.length < MIN_SECRET) return;
  known.delete(value);
  known.add(value);
  if (known.size > MAX_SECRETS) known.delete(known.values().next().value as string);
  registryIndex = undefined;
}

/** Forgets every registered secret (for tests). */
export function forgetSecrets(): void {
  known.clear();
  registryIndex = undefined;
}

/**
 * `text` with every registered secret (and `extra` ones) replaced by `<redacted>`, cut to `limit`
 * characters (`Infinity` for no cut) with a marker saying how many were cut. Only as much of `text`
 * is read as the kept part needs, so a 10 MB text costs no more than a short one. A cut never
 * splits a secret, and a text ending in the first characters of a secret loses them.
 */
export function scrubText(
  text: string,
  extra: readonly (string | undefined)[] = [],
  limit = MAX_PEER_TEXT,
): string {
  if (!(limit >= 0)) throw new RangeError('limit must be a number >= 0');
  const source = String(text);
  registryIndex ??= indexOf([...known]);
  const indexes = [registryIndex];
  const extras = extra.filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET);
  if (extras.length > 0) indexes.push(indexOf(extras));

  let out = '';
  let kept = 0;
  let from = 0; // start of the plain run not yet copied
  let i = 0;
  let cut = -1;
  while (i < source.length) {
    if (kept + (i - from) >= limit) {
      cut = i;
      break;
    }
    let end = longestMatch(source, i, indexes);
    if (end < 0) {
      i += 1;
      continue;
    }
    if (kept + (i - from) + REDACTED.length > limit) {
      cut = i;
      break;
    }
    for (let j = i + 1; j < end; j += 1) end = Math.max(end, longestMatch(source, j, indexes));
    out += source.slice(from, i) + REDACTED;
    kept += i - from + REDACTED.length;
    from = i = end;
  }
  let stop = cut < 0 ? source.length : cut;
  if (cut >= 0 && stop > from && isHighSurrogate(source.charCodeAt(stop - 1))) stop -= 1;
  const prefixAt = trailingPrefix(source, from, stop, indexes);
  out += source.slice(from, prefixAt);
  if (cut < 0 && prefixAt === stop) return out;
  if (cut < 0) return out + REDACTED;
  return out + marker(source.length - prefixAt);
}

/** `text` cut to `limit` characters, with a marker naming how many were cut. */
export function cap(text: string, limit = MAX_PEER_TEXT): string {
  if (text.length <= limit) return text;
  const at = isHighSurrogate(text.charCodeAt(limit - 1)) ? limit - 1 : limit;
  return text.slice(0, at) + marker(text.length - at);
}

function marker(cutCount: number): string {
  return `… [${cutCount} more characters cut]`;
}

function indexOf(secrets: readonly string[]): Index {
  const byPair = new Map<number, Pattern[]>();
  const byEscape = new Map<number, Pattern[]>();
  let maxText = 0;
  const add = (map: Map<number, Pattern[]>, key: number, pattern: Pattern): void => {
    const list = map.get(key);
    if (list === undefined) map.set(key, [pattern]);
    else if (!list.includes(pattern)) list.push(pattern);
  };
  const forms = new Set<string>();
  for (const secret of secrets) {
    forms.add(secret);
    for (const core of base64Cores(secret)) if (core.length >= MIN_SECRET) forms.add(core);
  }
  for (const form of forms) {
    const pattern = [...form].map(unitOf);
    const [first, second] = pattern as [Unit, Unit];
    const starts = first.space ? [SPACE, PLUS] : [first.literal[0] as number];
    const thens =
      first.literal.length > 1 ? [first.literal[1] as number] : [second.literal[0] as number, PERCENT];
    if (second.space) thens.push(PLUS);
    for (const start of starts) for (const then of thens) add(byPair, pair(start, then), pattern);
    add(byEscape, hexByte(first.escape, 1), pattern);
    maxText = Math.max(
      maxText,
      pattern.reduce((n, u) => n + Math.max(u.literal.length, u.escape.length), 0),
    );
  }
  return { byPair, byEscape, maxText };
}

/** The patterns a match at `at` may follow: by the character there, or by the byte a `%xx` there names. */
function candidates(text: string, at: number, index: Index): readonly Pattern[] {
  const code = fold(text.charCodeAt(at));
  const direct = index.byPair.get(pair(code, fold(text.charCodeAt(at + 1)))) ?? [];
  if (code !== PERCENT) return direct;
  const escaped = index.byEscape.get(hexByte(text, at + 1)) ?? [];
  return direct.length === 0 ? escaped : [...direct, ...escaped];
}

function pair(first: number, second: number): number {
  return first * 0x10000 + second;
}

/** The byte two hex digits at `at` name, or -1. */
function hexByte(source: string | readonly number[], at: number): number {
  const digit = (k: number): number => {
    const code = typeof source === 'string' ? source.charCodeAt(k) : (source[k] ?? -1);
    if (code >= 48 && code <= 57) return code - 48;
    const lower = code | 32;
    return lower >= 97 && lower <= 102 ? lower - 87 : -1;
  };
  const high = digit(at);
  const low = digit(at + 1);
  return high < 0 || low < 0 ? -1 : high * 16 + low;
}

/** Made on first use, so that loading this module needs nothing beyond the language itself. */
let utf8: InstanceType<typeof TextEncoder> | undefined;
const asciiUnits = new Map<string, Unit>();

function unitOf(char: string): Unit {
  const cached = asciiUnits.get(char);
  if (cached !== undefined) return cached;
  const literal = Array.from({ length: char.length }, (_, k) => fold(char.charCodeAt(k)));
  const escape: number[] = [];
  utf8 ??= new TextEncoder();
  for (const byte of utf8.encode(char)) {
    for (const c of `%${byte.toString(16).padStart(2, '0')}`) escape.push(c.charCodeAt(0));
  }
  const unit = { literal, escape, space: char === ' ' };
  if (char.charCodeAt(0) < 128) asciiUnits.set(char, unit);
  return unit;
}

function fold(code: number): number {
  if (code >= 65 && code <= 90) return code + 32;
  if (code < 128) return code;
  const lower = String.fromCharCode(code).toLowerCase();
  return lower.length === 1 ? lower.charCodeAt(0) : code;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** The end of the longest match of any pattern starting at `at`, or -1. */
function longestMatch(text: string, at: number, indexes: readonly Index[]): number {
  let best = -1;
  for (const index of indexes) {
    for (const pattern of candidates(text, at, index)) {
      best = Math.max(best, walk(text, at, pattern, text.length, false));
    }
  }
  return best;
}

/** Where a secret's first characters (at least `MIN_PREFIX`) run from to `stop`; `stop` when none. */
function trailingPrefix(text: string, from: number, stop: number, indexes: readonly Index[]): number {
  const maxText = Math.max(...indexes.map((index) => index.maxText));
  for (let q = Math.max(from, stop - maxText); q <= stop - MIN_PREFIX; q += 1) {
    for (const index of indexes) {
      for (const pattern of candidates(text, q, index)) {
        if (walk(text, q, pattern, stop, true) >= 0) return q;
      }
    }
  }
  return stop;
}

/**
 * Follows `pattern` from `at` over `text` up to `bound`, every character matched literally (any case),
 * as its `%xx` escape, or as `+` for a space; the positions reachable after each character are
 * tracked together, since `%` may stand for itself or start `%25`. Whole match: the furthest end, or
 * -1. With `prefix`: `bound` when the text reaches `bound` after `MIN_PREFIX` or more characters
 * (an escape cut at `bound` counting as a character), else -1.
 */
function walk(text: string, at: number, pattern: Pattern, bound: number, prefix: boolean): number {
  let positions = [at];
  for (let k = 0; k < pattern.length; k += 1) {
    const unit = pattern[k] as Unit;
    const next: number[] = [];
    for (const pos of positions) {
      if (prefix && pos === bound) return k >= MIN_PREFIX ? bound : -1;
      if (same(text, pos, unit.literal, bound)) add(next, pos + unit.literal.length);
      if (unit.space && pos < bound && text.charCodeAt(pos) === PLUS) add(next, pos + 1);
      if (text.charCodeAt(pos) !== PERCENT) continue;
      if (same(text, pos, unit.escape, bound)) add(next, pos + unit.escape.length);
      else if (prefix && pos + unit.escape.length > bound && same(text, pos, unit.escape, bound, true)) {
        return k + 1 >= MIN_PREFIX ? bound : -1;
      }
    }
    if (next.length === 0) return -1;
    positions = next;
  }
  return prefix ? -1 : Math.max(...positions);
}

function add(positions: number[], position: number): void {
  if (!positions.includes(position)) positions.push(position);
}

/** Whether `codes` (folded) stand at `pos`, all before `bound` (or, when `partial`, up to `bound`). */
function same(text: string, pos: number, codes: readonly number[], bound: number, partial = false): boolean {
  const n = partial ? Math.min(codes.length, bound - pos) : codes.length;
  if (n <= 0 || pos + n > bound) return false;
  for (let k = 0; k < n; k += 1) if (fold(text.charCodeAt(pos + k)) !== codes[k]) return false;
  return true;
}
