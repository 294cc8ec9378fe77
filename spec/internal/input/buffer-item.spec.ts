import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fromBuffers } from '../../../src/sources/fromBuffers.js';
import { fromReadable } from '../../../src/sources/fromReadable.js';
import { collect, summary } from '../../sources/helpers.js';

describe('the size cap of buffer sources', () => {
  it('fromBuffers fails a buffer over maxBytes with FILE_TOO_LARGE, keeping its name and meta but not its bytes', async () => {
    const values = await collect(
      fromBuffers([new Uint8Array(10), { name: 'big', data: new ArrayBuffer(11), meta: { id: 7 } }], {
        maxBytes: 10,
      }),
    );
    expect(values.map(summary)).toEqual(['buffer-0', 'big:read:FILE_TOO_LARGE']);
    expect(values[1]).toMatchObject({
      meta: { id: 7 },
      error: { message: 'big has 11 bytes, more than the limit of 10 bytes' },
    });
    expect('data' in values[1]!).toBe(false);
  });

  it('fromReadable applies maxBytes to each object', async () => {
    const stream = Readable.from([new Uint8Array(3), new Uint8Array(4)]);
    const values = await collect(fromReadable(stream, { maxBytes: 3 }));
    expect(values.map(summary)).toEqual(['buffer-0', 'buffer-1:read:FILE_TOO_LARGE']);
  });

  it('refuses a bad maxBytes when called', () => {
    expect(() => fromBuffers([], { maxBytes: 0 })).toThrow(RangeError);
    expect(() => fromReadable(Readable.from([]), { maxBytes: Number.NaN })).toThrow(TypeError);
  });
});
