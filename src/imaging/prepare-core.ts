/**
 * The decoder-independent half of preparing an image: the model input's size, the options and their
 * validation, and the steps around the decoder (empty and raw inputs, format sniffing, the bilinear
 * stretch to 448 x 448). Node (`prepare.ts`, sharp) and the browser (WebAssembly decoders in workers)
 * each plug their decoder in. No Node imports.
 */
import { AthenaError } from '../errors.js';
import { ImageFormat } from '../generated/athena/models.js';
import { resizeBilinear } from './bilinear.js';
import { releaseSamples, throwIfAborted, type DecodedPixels } from './pixels.js';
import { detectImageFormat } from './sniff.js';

/** Width and height of the model input. */
export const MODEL_INPUT_SIZE = 448;
/** Bytes of one model input: 448 x 448 pixels x 3 channels (B, G, R), uint8. */
export const MODEL_INPUT_BYTES = MODEL_INPUT_SIZE * MODEL_INPUT_SIZE * 3;

/** Default decompression-bomb limit of {@link prepareImage}: 100 megapixels. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/** How hard {@link prepareImage} works to match the reference preprocessing. */
export type PrepareMode = 'exact' | 'fast';

/** sharp's levels of decoder strictness. */
export type DecodeStrictness = 'none' | 'truncated' | 'error' | 'warning';

export interface PrepareImageOptions {
  /**
   * `'exact'` (default) reproduces the reference preprocessing bit for bit. `'fast'` lets libjpeg
   * decode a JPEG at 1/2, 1/4 or 1/8 scale (DCT scaling) when it stays at least 448 pixels in both
   * directions, reduces it with libvips to just above 448, then applies the same bilinear step;
   * other formats and smaller JPEGs are prepared exactly. It is not worth much: on the 24-photo
   * corpus (0.3 to 12 MP) it saved 8% of the time overall and at most about 25% on one large
   * baseline JPEG, because entropy decoding (most of the work for progressive JPEGs) is not
   * scaled; and it changes the pixels, since the reference's bilinear stretch aliases while the
   * scaled decode averages: mean absolute difference 1.2 grey levels over the corpus, up to 7.8 on
   * one textured photo, single values up to 159. Prefer `'exact'` unless decode time dominates.
   */
  readonly mode?: PrepareMode;
  /** Largest accepted `width * height` (decompression-bomb guard), checked on the header before decoding. Default 100,000,000. */
  readonly maxPixels?: number;
  /**
   * When the decoder gives up on damaged data (sharp's `failOn`). Default `'error'`: corrupt or
   * truncated data fails, mere warnings (extraneous bytes and the like, which OpenCV decodes) pass.
   */
  readonly failOn?: DecodeStrictness;
  /**
   * The format the bytes are declared to be in. Only `IMAGE_FORMAT_RAW_UINT8_BGR` matters: such
   * bytes are already a model input and are returned untouched. Encoded formats are sniffed.
   */
  readonly format?: ImageFormat;
  /** Aborts the preparation; the promise then rejects with an `AthenaError` coded `CANCELLED`. */
  readonly signal?: AbortSignal;
}

/** A model input: 448 x 448 x 3 bytes, B, G, R, row-major. */
export interface PreparedImage {
  readonly data: Uint8Array;
  /** Width of the original image (after EXIF orientation), in pixels. */
  readonly width: number;
  /** Height of the original image (after EXIF orientation), in pixels. */
  readonly height: number;
  readonly format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR;
}

const MODES: readonly PrepareMode[] = ['exact', 'fast'];
const STRICTNESS: readonly DecodeStrictness[] = ['none', 'truncated', 'error', 'warning'];

/** The mode, pixel limit and strictness of `options` with their defaults; throws on bad values. */
export function checkPrepareOptions(
  options: Pick<PrepareImageOptions, 'mode' | 'maxPixels' | 'failOn'>,
): Required<Pick<PrepareImageOptions, 'mode' | 'maxPixels' | 'failOn'>> {
  const mode = options.mode ?? 'exact';
  if (!MODES.includes(mode)) throw new RangeError(`mode must be one of ${MODES.join(', ')}`);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (typeof maxPixels !== 'number' || !Number.isSafeInteger(maxPixels)) {
    throw new TypeError('maxPixels must be an integer');
  }
  if (maxPixels < 1) throw new RangeError('maxPixels must be at least 1');
  const failOn = options.failOn ?? 'error';
  if (!STRICTNESS.includes(failOn)) throw new RangeError(`failOn must be one of ${STRICTNESS.join(', ')}`);
  return { mode, maxPixels, failOn };
}

/** Decodes bytes sniffed as `format` (never unspecified, never raw) into pixels for the bilinear step. */
export type DecodeWork = (bytes: Uint8Array, format: ImageFormat) => Promise<DecodedPixels>;

/** The options `prepareWith` reads, validated. */
export type CheckedPrepareOptions = Required<Pick<PrepareImageOptions, 'mode' | 'maxPixels' | 'failOn'>> &
  Pick<PrepareImageOptions, 'format' | 'signal'>;

/**
 * Prepares `bytes` with `decode` doing the decoding: `EMPTY_INPUT` for no bytes, raw BGR passed
 * through (`INVALID_INPUT` at the wrong length), `UNSUPPORTED_FORMAT` for bytes in no image format,
 * then the decoded pixels stretched to 448 x 448 B, G, R bytes with OpenCV's INTER_LINEAR arithmetic.
 * Samples the decoder marks as its own are released as soon as the stretch has read them.
 */
export async function prepareWith(
  bytes: Uint8Array,
  options: CheckedPrepareOptions,
  decode: DecodeWork,
): Promise<PreparedImage> {
  throwIfAborted(options.signal);
  if (bytes.length === 0) throw new AthenaError('EMPTY_INPUT', 'The image has no bytes');
  if (options.format === ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR) {
    if (bytes.length !== MODEL_INPUT_BYTES) {
      throw new AthenaError(
        'INVALID_INPUT',
        `Raw BGR input must be ${MODEL_INPUT_BYTES} bytes (448 x 448 x 3), got ${bytes.length}`,
      );
    }
    return {
      data: bytes,
      width: MODEL_INPUT_SIZE,
      height: MODEL_INPUT_SIZE,
      format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR,
    };
  }
  const format = detectImageFormat(bytes);
  if (format === ImageFormat.IMAGE_FORMAT_UNSPECIFIED) {
    throw new AthenaError('UNSUPPORTED_FORMAT', 'The bytes are not in an image format the service accepts');
  }
  const decoded = await decode(bytes, format);
  try {
    throwIfAborted(options.signal);
    const data = resizeBilinear(
      decoded.data,
      decoded.width,
      decoded.height,
      decoded.layout,
      MODEL_INPUT_SIZE,
      MODEL_INPUT_SIZE,
    );
    return {
      data,
      width: decoded.imageWidth,
      height: decoded.imageHeight,
      format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR,
    };
  } finally {
    // The stretch wrote a new buffer: the decoded samples are read for the last time.
    if (decoded.owned === true) releaseSamples(decoded.data);
  }
}
