import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { base64, base64Cores } from '../../../src/internal/secrets/base64.js';
import {
  MAX_PEER_TEXT,
  cap,
  forgetSecrets,
  registerSecret,
  scrubText,
} from '../../../src/internal/secrets/scrub.js';

const TOKEN = 'eyJhbGciOi.Jsb2NhbC10b2tlbi1mb3ItdGVzdHM/x+y=z';
const SECRET = "s3cr3t p@ss/w0rd!~*'()";

afterEach(() => forgetSecrets());

/** The base64 characters that depend only on `secret`'s bytes, placed after `before` bytes. */
function embeddedCore(secret: string, before: number, url = false): { text: string; core: string } {
  const bytes = Buffer.from(secret, 'utf8');
  const whole = Buffer.concat([Buffer.alloc(before, 0xa5), bytes, Buffer.from('tail-bytes')]);
  const text = whole.toString(url ? 'base64url' : 'base64');
  const first = Math.ceil((before * 8) / 6);
  const last = Math.floor(((before + bytes.length) * 8) / 6);
  return { text, core: text.slice(first, last) };
}

describe('base64', () => {
  it('agrees with Buffer for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(base64(bytes)).toBe(Buffer.from(bytes).toString('base64').replace(/=+$/, ''));
      }),
    );
  });

  it('gives, at each alignment, the characters that only the secret decides', () => {
    for (const secret of ['abcd', 'abcde', 'abcdef', TOKEN, 'ünïcödé-sécret']) {
      const cores = base64Cores(secret);
      for (const before of [0, 1, 2, 3, 4, 5]) {
        for (const url of [false, true]) {
          const { text, core } = embeddedCore(secret, before, url);
          expect(cores).toContain(core);
          expect(text).toContain(core);
        }
      }
    }
  });
});

describe('scrubText: encodings', () => {
  it('removes a registered secret as it is and in any letter case', () => {
    registerSecret(TOKEN);
    for (const form of [TOKEN, TOKEN.toUpperCase(), TOKEN.toLowerCase()]) {
      const out = scrubText(`authorization: Bearer ${form} (echoed)`);
      expect(out).toBe('authorization: Bearer <redacted> (echoed)');
    }
  });

  it('removes it percent-encoded: encodeURIComponent, form style, any hex case, any mix', () => {
    registerSecret(SECRET);
    const form = new URLSearchParams({ s: SECRET }).toString().slice(2);
    expect(form).toContain('+'); // the space as form encoding writes it
    const forms = [
      encodeURIComponent(SECRET),
      form,
      encodeURIComponent(SECRET).toLowerCase(),
      encodeURI(SECRET),
      [...SECRET].map((c) => `%${c.charCodeAt(0).toString(16)}`).join(''),
    ];
    for (const encoded of forms) {
      expect(scrubText(`?secret=${encoded}&next=1`)).toBe('?secret=<redacted>&next=1');
    }
  });

  it('removes it as base64 and base64url at each of the three byte alignments', () => {
    registerSecret(SECRET);
    for (const before of [0, 1, 2]) {
      for (const url of [false, true]) {
        const { text, core } = embeddedCore(SECRET, before, url);
        const out = scrubText(`basic ${text}`, [], Infinity);
        expect(out).toContain('<redacted>');
        expect(out).not.toContain(core);
        expect(out.length).toBeLessThan(text.length);
      }
    }
    const plain = Buffer.from(SECRET).toString('base64');
    expect(scrubText(`x ${plain} y`)).not.toContain(plain.slice(0, 12));
    expect(scrubText(`x ${encodeURIComponent(plain)} y`)).toMatch(/^x <redacted>[^ ]{0,9} y$/);
  });

  it('removes non-ASCII secrets plainly and percent-encoded (UTF-8)', () => {
    const secret = 'pässwörd-ü';
    registerSecret(secret);
    expect(scrubText(`a ${secret} b ${encodeURIComponent(secret)} c`)).toBe('a <redacted> b <redacted> c');
  });

  it('removes overlapping secrets as one, whichever was registered first', () => {
    registerSecret('abcdefgh1234');
    registerSecret('1234wxyz9876');
    registerSecret('abcdefgh'); // contained in the first
    expect(scrubText('[abcdefgh1234wxyz9876]')).toBe('[<redacted>]');
    expect(scrubText('[ABCDEFGH12]')).toBe('[<redacted>12]');
    expect(scrubText('aaaaaaaaaa', ['aaaa'])).toBe('<redacted>');
  });

  it('takes extra secrets for one call, ignores short values, leaves other text alone', () => {
    registerSecret('abc');
    registerSecret(undefined);
    expect(scrubText('abc xyz1 abc', ['xyz1', undefined, ''])).toBe('abc <redacted> abc');
    expect(scrubText('nothing secret here')).toBe('nothing secret here');
  });

  it('remembers the most recent 256 secrets; registering again keeps a secret young', () => {
    registerSecret('first-secret-0');
    registerSecret('kept-secret-00');
    for (let i = 0; i < 255; i += 1) {
      registerSecret(`filler-${i}-secret`);
      if (i === 100) registerSecret('kept-secret-00');
    }
    expect(scrubText('first-secret-0 kept-secret-00')).toBe('first-secret-0 <redacted>');
  });
});

describe('scrubText and cap: the cut', () => {
  it('cuts to the limit with a marker counting what was cut', () => {
    const text = 'x'.repeat(5000);
    expect(scrubText(text)).toBe(
      `${'x'.repeat(MAX_PEER_TEXT)}… [${5000 - MAX_PEER_TEXT} more characters cut]`,
    );
    expect(cap('abcdef', 4)).toBe('abcd… [2 more characters cut]');
    expect(cap('abc', 4)).toBe('abc');
    expect(scrubText('abcdef', [], 6)).toBe('abcdef');
    expect(() => scrubText('a', [], -1)).toThrow(RangeError);
  });

  it('never leaves the first characters of a secret at the cut', () => {
    registerSecret(TOKEN);
    for (let at = 0; at < 60; at += 1) {
      const text = `${'.'.repeat(at)}${TOKEN}${'.'.repeat(100)}`;
      const out = scrubText(text, [], 64);
      const kept = out.slice(0, out.indexOf('…'));
      expect(kept.length).toBeLessThanOrEqual(64);
      expect(kept).not.toContain(TOKEN.slice(0, 6));
      expect(out).toMatch(/… \[\d+ more characters cut\]$/);
      const count = Number(/\[(\d+) more/.exec(out)?.[1]);
      expect(kept.replace('<redacted>', TOKEN).length + count).toBe(text.length);
    }
  });

  it('removes a secret the peer itself cut short at the end of its text', () => {
    registerSecret(TOKEN);
    expect(scrubText(`token ${TOKEN.slice(0, 9)}`)).toBe('token <redacted>');
    expect(scrubText(`token ${encodeURIComponent(TOKEN).slice(0, 40)}%2`)).toBe('token <redacted>');
    expect(scrubText(`token ${TOKEN.slice(0, 5)}`)).toBe(`token ${TOKEN.slice(0, 5)}`);
  });

  it('reads only what it keeps: 10 MB of text with secrets everywhere is scrubbed and cut at once', () => {
    registerSecret(TOKEN);
    for (let i = 0; i < 255; i += 1) registerSecret(`other-secret-${i}-${'z'.repeat(i % 40)}`);
    const chunk = `${TOKEN} ${encodeURIComponent(TOKEN)} ${'%'.repeat(30)} `;
    const text = chunk.repeat(Math.ceil((10 * 1024 * 1024) / chunk.length));
    const started = performance.now();
    const out = scrubText(text);
    const uncapped = scrubText(text.slice(0, 50_000), [], Infinity);
    const elapsed = performance.now() - started;
    expect(out.length).toBeLessThan(MAX_PEER_TEXT + 40);
    expect(out).toMatch(/more characters cut\]$/);
    expect(out.toLowerCase()).not.toContain(TOKEN.slice(0, 6).toLowerCase());
    expect(uncapped).not.toContain(TOKEN.slice(0, 6));
    expect(elapsed).toBeLessThan(5_000); // generous: milliseconds on an idle machine
  });
});

const printable = fc.constantFrom(...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)));
const asciiSecret = fc.string({ unit: printable, minLength: 8, maxLength: 48 });
const anySecret = fc.oneof(asciiSecret, fc.string({ unit: 'grapheme', minLength: 8, maxLength: 24 }));
const noise = fc.string({ unit: fc.oneof(printable, fc.constant('%')), maxLength: 40 });

type Encoding = (secret: string) => { text: string; needle: string };
const encodings: Record<string, Encoding> = {
  plain: (s) => ({ text: s, needle: s }),
  upper: (s) => ({ text: s.toUpperCase(), needle: s.toUpperCase() }),
  uri: (s) => ({ text: encodeURIComponent(s), needle: encodeURIComponent(s) }),
  form: (s) => {
    const text = new URLSearchParams({ s }).toString().slice(2);
    return { text, needle: text };
  },
  base64_0: (s) => base64At(s, 0),
  base64_1: (s) => base64At(s, 1),
  base64_2: (s) => base64At(s, 2),
  base64url_1: (s) => base64At(s, 1, true),
};
function base64At(s: string, before: number, url = false): { text: string; needle: string } {
  const { text, core } = embeddedCore(s, before, url);
  return { text, needle: core };
}

describe('scrubText: property', () => {
  it('no registered secret survives in any of its encodings, wherever it sits in any text', () => {
    fc.assert(
      fc.property(
        anySecret,
        fc.constantFrom(...Object.keys(encodings)),
        noise,
        noise,
        fc.boolean(),
        (secret, encoding, before, after, viaRegistry) => {
          fc.pre(/[^\s]/.test(secret));
          const isAscii = /^[\x20-\x7e]*$/.test(secret);
          fc.pre(isAscii || encoding !== 'upper');
          forgetSecrets();
          if (viaRegistry) registerSecret(secret);
          const { text, needle } = (encodings[encoding] as Encoding)(secret);
          const out = scrubText(`${before}${text}${after}`, viaRegistry ? [] : [secret], Infinity);
          expect(out.toLowerCase()).not.toContain(needle.toLowerCase());
          expect(out).toContain('<redacted>');
        },
      ),
      { numRuns: 400 },
    );
  });

  it('a cut anywhere keeps at most the limit and no 6-character start of the secret at its end', () => {
    fc.assert(
      fc.property(asciiSecret, noise, fc.integer({ min: 8, max: 120 }), (secret, before, limit) => {
        fc.pre(/^\S/.test(secret));
        forgetSecrets();
        registerSecret(secret);
        const out = scrubText(`${before}${secret}${'-'.repeat(200)}`, [], limit);
        const kept = out.replace(/… \[\d+ more characters cut\]$/, '');
        expect(kept.length).toBeLessThanOrEqual(limit);
        expect(kept.toLowerCase().endsWith(secret.slice(0, 6).toLowerCase())).toBe(false);
        expect(kept.toLowerCase()).not.toContain(secret.toLowerCase());
      }),
      { numRuns: 300 },
    );
  });
});

describe('scrubText: surrogate pairs', () => {
  it('never cuts between the halves of a pair, and keeps a text that ends in one whole', () => {
    const text = `${'a'.repeat(9)}😀${'b'.repeat(10)}`;
    expect(scrubText(text, [], 10)).toBe(`${'a'.repeat(9)}… [${text.length - 9} more characters cut]`);
    expect(scrubText('ends with 😀')).toBe('ends with 😀');
    expect(cap(text, 10)).toBe(scrubText(text, [], 10));
  });
});
