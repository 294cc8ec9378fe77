/**
 * PBM, PGM and PPM (`P1` to `P6`) decoded as OpenCV's `PxMDecoder` does for `IMREAD_COLOR`. Pure
 * TypeScript; binary 8- and 16-bit files are read in place, without a copy.
 *
 * OpenCV's rules, kept here: numbers are separated by white space and `#` comments; binary samples
 * are taken as they are, whatever `maxval` (not rescaled); ASCII samples are clamped to `maxval`
 * and, for 8-bit files, scaled by `v * 255 / maxval` (integer division); 16-bit files
 * (`maxval > 255`, big-endian) keep their high byte; a PBM bit 1 is black, 0 white.
 */
import { AthenaError } from '../errors.js';
import { assertPixelCount, type DecodedPixels } from './pixels.js';

/** Decodes a `P1`..`P6` file; throws `DECODE_FAILED` when it is malformed or truncated. */
export function decodeNetpbm(bytes: Uint8Array, maxPixels: number): DecodedPixels {
  const reader = { bytes, at: 2 };
  const kind = bytes[1]! - 0x30;
  if (bytes[0] !== 0x50 || kind < 1 || kind > 6) throw failed('it is not a P1..P6 netpbm file');
  const width = readNumber(reader, 1e9);
  const height = readNumber(reader, 1e9);
  const bitmap = kind === 1 || kind === 4;
  const maxval = bitmap ? 1 : readNumber(reader, 1e9);
  if (width < 1 || height < 1) throw failed('its width or height is zero');
  if (maxval < 1 || maxval > 65535) throw failed(`its maxval ${maxval} is outside 1..65535`);
  assertPixelCount(width, height, maxPixels);
  const channels = kind === 3 || kind === 6 ? 3 : 1;
  const wide = maxval > 255;
  const binary = kind >= 4;

  if (binary && !bitmap) {
    // Read in place: 8-bit samples as they are, 16-bit big-endian samples by their high byte.
    const sampleBytes = wide ? 2 : 1;
    const pixelStride = channels * sampleBytes;
    if (reader.at + width * height * pixelStride > bytes.length) throw failed('its pixel data is truncated');
    const [r, g, b] = channels === 3 ? [0, sampleBytes, 2 * sampleBytes] : [0, 0, 0];
    const data = bytes.subarray(reader.at);
    return {
      data,
      width,
      height,
      layout: { pixelStride, channelOffsets: [b, g, r] },
      imageWidth: width,
      imageHeight: height,
    };
  }

  const out = new Uint8Array(width * height * 3);
  if (bitmap && binary) {
    const pitch = Math.ceil(width / 8);
    if (reader.at + pitch * height > bytes.length) throw failed('its pixel data is truncated');
    for (let y = 0, o = 0; y < height; y++) {
      const row = reader.at + y * pitch;
      for (let x = 0; x < width; x++, o += 3)
        out.fill((bytes[row + (x >> 3)]! >> (7 - (x & 7))) & 1 ? 0 : 255, o, o + 3);
    }
  } else {
    // ASCII: P1 digits one by one (no separator needed), P2/P3 numbers.
    const scale = (v: number): number =>
      wide ? Math.min(v, maxval) >> 8 : Math.floor((Math.min(v, maxval) * 255) / maxval);
    const samples = width * height * channels;
    for (let i = 0; i < samples; i++) {
      const value = bitmap ? (readNumber(reader, 1) !== 0 ? 0 : 255) : scale(readNumber(reader, 1e9));
      if (channels === 3) out[Math.floor(i / 3) * 3 + 2 - (i % 3)] = value;
      else out.fill(value, i * 3, i * 3 + 3);
    }
  }
  return {
    data: out,
    width,
    height,
    layout: { pixelStride: 3, channelOffsets: [0, 1, 2] },
    imageWidth: width,
    imageHeight: height,
  };
}

/**
 * OpenCV's `ReadNumber`: skips anything up to the next digit (`#` comments to the end of their
 * line), reads at most `maxDigits` digits and consumes the byte after them unless it stopped on
 * the digit count.
 */
function readNumber(reader: { bytes: Uint8Array; at: number }, maxDigits: number): number {
  const next = (): number => {
    const code = reader.bytes[reader.at++];
    if (code === undefined) throw failed('its header or ASCII data ends early');
    return code;
  };
  const isDigit = (code: number): boolean => code >= 0x30 && code <= 0x39;
  let code = next();
  while (!isDigit(code)) {
    if (code === 0x23) while (code !== 0x0a && code !== 0x0d) code = next();
    code = next();
  }
  let value = 0;
  for (let digits = 1; ; digits++) {
    value = value * 10 + code - 0x30;
    if (digits >= maxDigits || reader.at >= reader.bytes.length) return value;
    code = next();
    if (!isDigit(code)) return value;
  }
}

function failed(reason: string): AthenaError {
  return new AthenaError('DECODE_FAILED', `The netpbm image could not be decoded: ${reason}`);
}
