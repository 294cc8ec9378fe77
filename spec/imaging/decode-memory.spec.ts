import { describe, expect, it } from 'vitest';
import { decodeWeight, WEBP_DECODE_FACTOR } from '../../src/imaging/decode-memory.js';
import type { ImageHeader } from '../../src/imaging/header.js';

const header = (format: ImageHeader['format'], extra: Partial<ImageHeader> = {}): ImageHeader => ({
  format,
  width: 300,
  height: 200,
  grey: false,
  sixteen: false,
  cmyk: false,
  ...extra,
});

describe('decodeWeight', () => {
  it('charges baseline JPEG and PNG their pixels', () => {
    expect(decodeWeight(header('jpeg'))).toBe(60_000);
    expect(decodeWeight(header('png'))).toBe(60_000);
    expect(decodeWeight(header('png', { sixteen: true }))).toBe(120_000); // two bytes a sample
  });

  it('adds two bytes per coefficient a progressive JPEG keeps, in pixels of three bytes', () => {
    expect(decodeWeight(header('jpeg', { coefficientsPerPixel: 1.5 }))).toBe(120_000); // 4:2:0
    expect(decodeWeight(header('jpeg', { coefficientsPerPixel: 3 }))).toBe(180_000); // 4:4:4
    expect(decodeWeight(header('jpeg', { coefficientsPerPixel: 1, grey: true }))).toBe(100_000);
  });

  it('charges WebP for its frames besides the output, rounded up', () => {
    expect(WEBP_DECODE_FACTOR).toBeCloseTo(10 / 3);
    expect(decodeWeight(header('webp'))).toBe(200_000);
    expect(decodeWeight({ ...header('webp'), width: 7, height: 1 })).toBe(Math.ceil(70 / 3));
  });
});
