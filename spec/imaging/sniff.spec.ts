import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ImageFormat } from '../../src/generated/athena/models.js';
import { detectImageFormat } from '../../src/imaging/sniff.js';

const F = ImageFormat;
const ascii = (text: string, ...rest: number[]): Uint8Array =>
  new Uint8Array([...Buffer.from(text, 'latin1'), ...rest]);

function bmpHeader(infoSize: number): Uint8Array {
  const b = Buffer.alloc(58);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(58, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(infoSize, 14);
  return b;
}

describe('detectImageFormat', () => {
  it.each([
    ['JPEG', new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), F.IMAGE_FORMAT_JPEG],
    ['PNG', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]), F.IMAGE_FORMAT_PNG],
    ['GIF87a', ascii('GIF87a', 1, 0), F.IMAGE_FORMAT_GIF],
    ['GIF89a', ascii('GIF89a', 1, 0), F.IMAGE_FORMAT_GIF],
    ['WebP', ascii('RIFF\x24\x00\x00\x00WEBPVP8 '), F.IMAGE_FORMAT_WEBP],
    ['TIFF little-endian', new Uint8Array([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0]), F.IMAGE_FORMAT_TIFF],
    ['TIFF big-endian', new Uint8Array([0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8]), F.IMAGE_FORMAT_TIFF],
    ['BigTIFF', new Uint8Array([0x49, 0x49, 0x2b, 0, 8, 0, 0, 0]), F.IMAGE_FORMAT_TIFF],
    ['BMP', bmpHeader(40), F.IMAGE_FORMAT_BMP],
    ['BMP v5', bmpHeader(124), F.IMAGE_FORMAT_BMP],
    ['PBM ascii', ascii('P1\n2 2\n'), F.IMAGE_FORMAT_PBM],
    ['PBM binary', ascii('P4 8 1\n'), F.IMAGE_FORMAT_PBM],
    ['PGM ascii', ascii('P2\n'), F.IMAGE_FORMAT_PGM],
    ['PGM binary', ascii('P5\r\n'), F.IMAGE_FORMAT_PGM],
    ['PPM ascii', ascii('P3\t'), F.IMAGE_FORMAT_PPM],
    ['PPM binary', ascii('P6\n2 1\n255\n'), F.IMAGE_FORMAT_PPM],
    ['PAM', ascii('P7\nWIDTH 1\n'), F.IMAGE_FORMAT_PXM],
    ['PFM colour', ascii('PF\n1 1\n-1.0\n'), F.IMAGE_FORMAT_PFM],
    ['PFM grey', ascii('Pf\n1 1\n-1.0\n'), F.IMAGE_FORMAT_PFM],
    ['Sun raster', new Uint8Array([0x59, 0xa6, 0x6a, 0x95, 0, 0, 0, 1]), F.IMAGE_FORMAT_RAS],
    ['Radiance', ascii('#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n'), F.IMAGE_FORMAT_HDR],
    ['RGBE', ascii('#?RGBE\n'), F.IMAGE_FORMAT_HDR],
  ])('recognises %s', (_name, bytes, format) => {
    expect(detectImageFormat(bytes)).toBe(format);
  });

  it.each([
    ['empty', new Uint8Array(0)],
    ['one byte', new Uint8Array([0xff])],
    ['a truncated JPEG marker', new Uint8Array([0xff, 0xd8])],
    ['a truncated PNG signature', new Uint8Array([0x89, 0x50, 0x4e, 0x47])],
    ['text', ascii('hello world')],
    ['text starting BM', ascii('BMW cars are fast, or so they say')],
    ['a BMP with an impossible header size', bmpHeader(5)],
    ['a BMP with a huge header size', bmpHeader(0x10000)],
    ['RIFF that is not WebP', ascii('RIFF\x24\x00\x00\x00WAVEfmt ')],
    ['P without white space', ascii('P6x')],
    ['P with an unknown kind', ascii('P9\n')],
    ['JPEG 2000', new Uint8Array([0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a])],
    ['ISO media (AVIF/HEIF)', ascii('\x00\x00\x00\x1cftypavif')],
  ])('answers UNSPECIFIED for %s', (_name, bytes) => {
    expect(detectImageFormat(bytes)).toBe(F.IMAGE_FORMAT_UNSPECIFIED);
  });

  it('recognises files real encoders wrote', async () => {
    const pixels = sharp(Buffer.alloc(4 * 4 * 3, 128), { raw: { width: 4, height: 4, channels: 3 } });
    const [jpeg, png, webp, gif, tiff] = await Promise.all([
      pixels.clone().jpeg().toBuffer(),
      pixels.clone().png().toBuffer(),
      pixels.clone().webp().toBuffer(),
      pixels.clone().gif().toBuffer(),
      pixels.clone().tiff().toBuffer(),
    ]);
    expect([jpeg, png, webp, gif, tiff].map((bytes) => detectImageFormat(bytes))).toEqual([
      F.IMAGE_FORMAT_JPEG,
      F.IMAGE_FORMAT_PNG,
      F.IMAGE_FORMAT_WEBP,
      F.IMAGE_FORMAT_GIF,
      F.IMAGE_FORMAT_TIFF,
    ]);
  });

  it('reads only the bytes it needs, at the start of the view', () => {
    const backing = new Uint8Array([0, 0, 0xff, 0xd8, 0xff, 0xdb]);
    expect(detectImageFormat(backing.subarray(2))).toBe(F.IMAGE_FORMAT_JPEG);
    expect(detectImageFormat(backing)).toBe(F.IMAGE_FORMAT_UNSPECIFIED);
  });
});
