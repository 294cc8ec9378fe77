import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClassificationInput,
  ErrorCode,
  ImageFormat,
  RequestEncoding,
  type ClassificationOutput,
} from '../../src/generated/athena/models.js';
import { prepareImage } from '../../src/imaging/prepare.js';
import { classifyBgr } from '../../src/testing/classifier.js';
import { startAthenaServer, type AthenaServer } from '../../src/testing/server.js';
import { makeBmp, makeNetpbm } from '../fixtures/imaging/bitmaps.js';
import { brotli, connect, openStream, request } from './helpers.js';

const SIZE = 448;
let server: AthenaServer;
let client: ReturnType<typeof connect>;

beforeAll(async () => {
  server = await startAthenaServer({ affiliates: ['acme'] });
  client = connect(server.address);
});
afterAll(async () => {
  client.close();
  await server.close();
});

/** 448 x 448 B, G, R blocks of 216 colours (6 levels a channel), so palette formats hold it exactly. */
function blocks(): Uint8Array {
  const out = new Uint8Array(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const i = Math.floor(y / 28) * 16 + Math.floor(x / 28) + ((x * 7 + y * 3) >> 6);
      out.set(
        [(i % 6) * 51, (Math.floor(i / 6) % 6) * 51, (Math.floor(i / 36) % 6) * 51],
        (y * SIZE + x) * 3,
      );
    }
  }
  return out;
}

function rgbOf(bgr: Uint8Array): Buffer {
  const rgb = Buffer.alloc(bgr.length);
  for (let i = 0; i < bgr.length; i += 3) rgb.set([bgr[i + 2]!, bgr[i + 1]!, bgr[i]!], i);
  return rgb;
}

/** The B, G, R image OpenCV gives for a grey (or black and white) image: the grey level thrice. */
function expand(grey: Uint8Array): Uint8Array {
  const out = new Uint8Array(grey.length * 3);
  grey.forEach((v, i) => out.fill(v, i * 3, i * 3 + 3));
  return out;
}

const refusal = (name: string) =>
  `Image Classification Error: ${name} images are not decoded by the embedded server`;

interface Case {
  readonly format: ImageFormat;
  readonly bytes: Uint8Array;
  /** The pixels `imdecode(IMREAD_COLOR)` gives, or the refusal message. */
  readonly expected: Uint8Array | string;
}

async function cases(): Promise<Case[]> {
  const bgr = blocks();
  const rgb = rgbOf(bgr);
  const raw = { raw: { width: SIZE, height: SIZE, channels: 3 as const } };
  const grey = new Uint8Array(SIZE * SIZE).map((_, i) => bgr[i * 3 + 1]!);
  const bits = new Uint8Array(SIZE * SIZE).map((_, i) => (bgr[i * 3]! > 100 ? 1 : 0));
  const packedBits = new Uint8Array((SIZE / 8) * SIZE);
  bits.forEach((bit, i) => (packedBits[i >> 3]! |= bit << (7 - (i & 7))));
  const bmp = makeBmp({
    width: SIZE,
    height: SIZE,
    bpp: 24,
    pixel: (x, y) => [...bgr.subarray((y * SIZE + x) * 3, (y * SIZE + x) * 3 + 3)],
  });
  const ppm = makeNetpbm(`P6\n${SIZE} ${SIZE}\n255\n`, rgb);
  const jpeg = await sharp(rgb, raw).jpeg({ quality: 90 }).toBuffer();
  const sunRaster = Buffer.alloc(32 + rgb.length);
  [0x59a66a95, SIZE, SIZE, 24, rgb.length, 1, 0, 0].forEach((v, i) => sunRaster.writeUInt32BE(v, i * 4));
  sunRaster.set(bgr, 32);
  const hdr = Buffer.concat([
    Buffer.from(`#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y ${SIZE} +X ${SIZE}\n`, 'latin1'),
    Buffer.alloc(SIZE * SIZE * 4, 0x80),
  ]);
  return [
    {
      format: ImageFormat.IMAGE_FORMAT_GIF,
      bytes: await sharp(rgb, raw).gif({ colours: 256, dither: 0 }).toBuffer(),
      expected: bgr,
    },
    { format: ImageFormat.IMAGE_FORMAT_JPEG, bytes: jpeg, expected: (await prepareImage(jpeg)).data },
    { format: ImageFormat.IMAGE_FORMAT_BMP, bytes: bmp, expected: bgr },
    { format: ImageFormat.IMAGE_FORMAT_DIB, bytes: bmp, expected: bgr },
    { format: ImageFormat.IMAGE_FORMAT_PNG, bytes: await sharp(rgb, raw).png().toBuffer(), expected: bgr },
    {
      format: ImageFormat.IMAGE_FORMAT_WEBP,
      bytes: await sharp(rgb, raw).webp({ lossless: true }).toBuffer(),
      expected: bgr,
    },
    {
      format: ImageFormat.IMAGE_FORMAT_PBM,
      bytes: makeNetpbm(`P4\n${SIZE} ${SIZE}\n`, packedBits),
      expected: expand(bits.map((b) => (b ? 0 : 255))),
    },
    {
      format: ImageFormat.IMAGE_FORMAT_PGM,
      bytes: makeNetpbm(`P5\n${SIZE} ${SIZE}\n255\n`, grey),
      expected: expand(grey),
    },
    { format: ImageFormat.IMAGE_FORMAT_PPM, bytes: ppm, expected: bgr },
    {
      format: ImageFormat.IMAGE_FORMAT_PXM,
      bytes: makeNetpbm(
        `P7\nWIDTH ${SIZE}\nHEIGHT ${SIZE}\nDEPTH 3\nMAXVAL 255\nTUPLTYPE RGB\nENDHDR\n`,
        rgb,
      ),
      expected: refusal('PAM (P7)'),
    },
    { format: ImageFormat.IMAGE_FORMAT_PNM, bytes: ppm, expected: bgr },
    {
      format: ImageFormat.IMAGE_FORMAT_PFM,
      bytes: makeNetpbm(`PF\n${SIZE} ${SIZE}\n-1.0\n`, new Uint8Array(SIZE * SIZE * 12)),
      expected: refusal('PFM (floating-point)'),
    },
    { format: ImageFormat.IMAGE_FORMAT_SR, bytes: sunRaster, expected: refusal('Sun raster (SR/RAS)') },
    { format: ImageFormat.IMAGE_FORMAT_RAS, bytes: sunRaster, expected: refusal('Sun raster (SR/RAS)') },
    {
      format: ImageFormat.IMAGE_FORMAT_TIFF,
      bytes: await sharp(rgb, raw).tiff({ compression: 'lzw' }).toBuffer(),
      expected: bgr,
    },
    { format: ImageFormat.IMAGE_FORMAT_HDR, bytes: hdr, expected: refusal('Radiance HDR (HDR/PIC)') },
    { format: ImageFormat.IMAGE_FORMAT_PIC, bytes: hdr, expected: refusal('Radiance HDR (HDR/PIC)') },
  ];
}

const encodedFormats = Object.values(ImageFormat).filter(
  (v): v is ImageFormat =>
    typeof v === 'number' &&
    v !== ImageFormat.IMAGE_FORMAT_UNSPECIFIED &&
    v !== ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR &&
    v !== ImageFormat.UNRECOGNIZED,
);

describe('every encoded format of the protocol', () => {
  let all: Case[] = [];
  let outputs: ClassificationOutput[] = [];

  beforeAll(async () => {
    all = await cases();
    const s = openStream(client);
    s.send(
      request(
        'formats',
        all.map((c, i) =>
          ClassificationInput.fromPartial({
            affiliate: 'acme',
            correlationId: `${ImageFormat[c.format]}-${i}`,
            encoding: RequestEncoding.REQUEST_ENCODING_BROTLI,
            data: brotli(Buffer.from(c.bytes)),
            format: c.format,
          }),
        ),
      ),
    );
    outputs = await s.waitForOutputs(all.length, 60_000);
    s.call.end();
    await s.ended;
  }, 90_000);

  it('covers the 17 encoded formats of ImageFormat', () => {
    expect(encodedFormats).toHaveLength(17);
    expect(all.map((c) => c.format).sort((a, b) => a - b)).toEqual(encodedFormats.sort((a, b) => a - b));
  });

  it('classifies a 448 x 448 image from the pixels imdecode gives, or refuses it with the documented message', () => {
    all.forEach((c, i) => {
      const name = ImageFormat[c.format];
      const output = outputs.find((o) => o.correlationId === `${name}-${i}`);
      expect(output, name).toBeDefined();
      if (typeof c.expected === 'string') {
        expect(output!.error?.code, name).toBe(ErrorCode.ERROR_CODE_UNSPECIFIED);
        expect(output!.error?.message, name).toBe(c.expected);
        expect(output!.classifications, name).toEqual([]);
        return;
      }
      expect(output!.error, `${name}: ${output!.error?.message}`).toBeUndefined();
      const got = output!.classifications.map((l) => [l.label, l.weight]);
      const want = classifyBgr(c.expected).map((l) => [l.label, Math.fround(l.weight)]);
      expect(got, name).toEqual(want);
    });
  });

  it('tells the grey, black and white and colour images apart', () => {
    const weights = (format: ImageFormat) =>
      outputs.find((o) => o.correlationId.startsWith(`${ImageFormat[format]}-`))!.classifications;
    expect(weights(ImageFormat.IMAGE_FORMAT_PGM)).not.toEqual(weights(ImageFormat.IMAGE_FORMAT_PPM));
    expect(weights(ImageFormat.IMAGE_FORMAT_PBM)).not.toEqual(weights(ImageFormat.IMAGE_FORMAT_PGM));
  });
});

describe('sizes', () => {
  it('refuses a BMP or PPM that is not 448 x 448 with IMAGE_TOO_LARGE, naming its size', async () => {
    const pixel = () => [10, 20, 30];
    const inputs = [
      makeBmp({ width: 448, height: 447, bpp: 24, pixel }),
      makeNetpbm('P6\n224 896\n255\n', new Uint8Array(224 * 896 * 3)),
      makeNetpbm('P6\n449 448\n255\n', new Uint8Array(449 * 448 * 3)),
    ].map((data, i) =>
      ClassificationInput.fromPartial({
        affiliate: 'acme',
        correlationId: `size-${i}`,
        data,
        format: ImageFormat.IMAGE_FORMAT_BMP,
      }),
    );
    const s = openStream(client);
    s.send(request('sizes', inputs));
    const outputs = await s.waitForOutputs(inputs.length, 30_000);
    s.call.end();
    await s.ended;
    expect(outputs.map((o) => [o.correlationId, o.error?.code])).toEqual([
      ['size-0', ErrorCode.ERROR_CODE_IMAGE_TOO_LARGE],
      ['size-1', ErrorCode.ERROR_CODE_IMAGE_TOO_LARGE],
      ['size-2', ErrorCode.ERROR_CODE_IMAGE_TOO_LARGE],
    ]);
    expect(outputs[0]!.error!.message).toBe('Image Classification Error: image must be 448x448, got 448x447');
    expect(outputs[1]!.error!.message).toBe('Image Classification Error: image must be 448x448, got 224x896');
    expect(outputs[2]!.error!.message).toBe('Image Classification Error: image must be 448x448');
    expect(outputs[2]!.error!.details).toMatch(/449x448/);
  });
});
