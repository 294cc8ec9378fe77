import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeImageFrame,
  decodeServerMessage,
  encodeImageFrame,
  encodeServerMessage,
  PREPARED_BYTES,
} from '../../../src/internal/gateway/protocol.js';
import { admit, openAccount, settle } from '../../../src/internal/gateway/limits.js';

const image = {
  id: 'img-1',
  encoding: 'brotli' as const,
  md5: '0'.repeat(32),
  sha1: 'f'.repeat(40),
  data: Uint8Array.of(9, 8, 7),
};

describe('gateway wire protocol', () => {
  it('decodes what it encodes, and a raw image must be exactly one prepared image', () => {
    expect(decodeImageFrame(encodeImageFrame(image), 10)).toEqual({ image });
    const raw = { ...image, encoding: 'raw' as const, data: new Uint8Array(PREPARED_BYTES) };
    expect(decodeImageFrame(encodeImageFrame(raw), PREPARED_BYTES)).toMatchObject({ image: { id: 'img-1' } });
    expect(decodeImageFrame(encodeImageFrame({ ...raw, data: new Uint8Array(7) }), 10)).toMatchObject({
      problem: { id: 'img-1', code: 'INVALID_INPUT' },
    });
    expect(decodeImageFrame(encodeImageFrame(image), 2)).toMatchObject({ problem: { id: 'img-1' } });
  });

  it('never throws on arbitrary bytes, and names an id only when it is a valid one', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, versioned) => {
        if (versioned && bytes.length > 0) bytes[0] = 1;
        const decoded = decodeImageFrame(bytes, 1000);
        if ('problem' in decoded && decoded.problem.id !== undefined)
          expect(decoded.problem.id).toMatch(/^[\w.:~-]{1,63}$/);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a header that lies about its length, or is not an image header', () => {
    const frame = encodeImageFrame(image);
    new DataView(frame.buffer).setUint32(1, 0xffffffff);
    expect(decodeImageFrame(frame, 10)).toMatchObject({ problem: { id: undefined, code: 'INVALID_INPUT' } });
    const header = new TextEncoder().encode(JSON.stringify({ type: 'text', id: 'x1' }));
    const odd = Uint8Array.from([1, 0, 0, 0, header.length, ...header, 1]);
    expect(decodeImageFrame(odd, 10)).toMatchObject({
      problem: { id: 'x1', message: 'message type must be "image"' },
    });
  });

  it('reads only well-formed version 1 gateway messages', () => {
    const ok = {
      v: 1,
      type: 'outcome',
      id: 'a',
      ok: true,
      classifications: [{ label: 'L', weight: 0.5 }],
    } as const;
    expect(decodeServerMessage(encodeServerMessage(ok))).toEqual(ok);
    for (const bad of [
      '{',
      'null',
      '{"v":2,"type":"hello"}',
      '{"v":1,"type":"outcome","id":"a","ok":true}',
    ]) {
      expect(decodeServerMessage(bad)).toBeUndefined();
    }
  });
});

describe('gateway limits', () => {
  const limits = { maxInFlight: 2, maxImageBytes: 100, maxBytesInFlight: 150, ratePerSecond: 2, burst: 2 };

  it('admits within the limits, refuses past them, and refills the bucket with time', () => {
    let account = openAccount(limits, 0);
    const take = (id: string, bytes: number, now: number) => {
      const verdict = admit(limits, account, id, bytes, now);
      if ('account' in verdict) account = verdict.account;
      return 'refusal' in verdict ? verdict.refusal.code : 'ok';
    };
    expect(take('a', 100, 0)).toBe('ok');
    expect(take('a', 10, 0)).toBe('DUPLICATE_ID');
    expect(take('b', 60, 0)).toBe('RESOURCE_EXHAUSTED');
    expect(take('b', 50, 0)).toBe('ok');
    expect(take('c', 1, 0)).toBe('RESOURCE_EXHAUSTED');
    account = settle(settle(account, 'a'), 'b');
    expect(account.bytes).toBe(0);
    expect(take('c', 1, 100)).toBe('RESOURCE_EXHAUSTED');
    expect(take('c', 1, 500)).toBe('ok');
  });
});
