import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_BYTES,
  HEAD_BYTES,
  judgeHead,
  limitOptions,
  tooLarge,
} from '../../../src/internal/input/limits.js';
import { jpegHead } from '../../support/image-heads.js';

const limits = { maxBytes: DEFAULT_MAX_BYTES, maxPixels: 1_000_000 };

describe('limitOptions', () => {
  it('defaults to 256 MiB and the 100-megapixel limit of resize', () => {
    expect(limitOptions({})).toEqual({ maxBytes: 256 * 1024 * 1024, maxPixels: 100_000_000 });
    expect(limitOptions({ maxBytes: 10, maxPixels: 20 })).toEqual({ maxBytes: 10, maxPixels: 20 });
  });

  it('refuses what is not a whole number from 1', () => {
    expect(() => limitOptions({ maxBytes: 0 })).toThrow(RangeError);
    expect(() => limitOptions({ maxBytes: 1.5 })).toThrow(TypeError);
    expect(() => limitOptions({ maxBytes: '1' as unknown as number })).toThrow(TypeError);
    expect(() => limitOptions({ maxPixels: -1 })).toThrow(RangeError);
  });
});

describe('judgeHead', () => {
  it('fails bytes in no image format with UNSUPPORTED_FORMAT', () => {
    const error = judgeHead('big.jpg', new Uint8Array(HEAD_BYTES), limits);
    expect(error?.code).toBe('UNSUPPORTED_FORMAT');
    expect(error?.message).toContain(`first ${HEAD_BYTES} bytes`);
  });

  it('fails a header declaring more pixels than allowed, and lets a smaller one through', () => {
    const error = judgeHead('huge.jpg', jpegHead(2000, 1000), limits);
    expect(error?.code).toBe('IMAGE_TOO_MANY_PIXELS');
    expect(error?.message).toContain('2000x1000');
    expect(judgeHead('ok.jpg', jpegHead(1000, 1000), limits)).toBeUndefined();
  });

  it('lets a recognised format without a readable header through (the rest must be read)', () => {
    const gif = new TextEncoder().encode('GIF89a' + ' '.repeat(100));
    expect(judgeHead('a.gif', gif, limits)).toBeUndefined();
  });
});

describe('tooLarge', () => {
  it('names the size when known and the cap, with code FILE_TOO_LARGE', () => {
    expect(tooLarge('a.jpg', 100, 250)).toMatchObject({
      code: 'FILE_TOO_LARGE',
      message: 'a.jpg has 250 bytes, more than the limit of 100 bytes',
      details: '100',
    });
    expect(tooLarge('u', 100).message).toBe('u has more than the limit of 100 bytes');
  });
});
