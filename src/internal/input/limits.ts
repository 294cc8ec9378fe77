/**
 * The limits a source applies before it holds an input's bytes: the size cap (`maxBytes`), and the
 * judgement of an input larger than its first bytes from those bytes alone (image format and pixel
 * count), so that a large file or download that cannot be an image is never read whole. Also the
 * options every file and URL source takes for them, and their validation.
 */
import { AthenaError } from '../../errors.js';
import { ImageFormat } from '../../generated/athena/models.js';
import { readImageHeader } from '../../imaging/header.js';
import { DEFAULT_MAX_PIXELS } from '../../imaging/prepare-core.js';
import { detectImageFormat } from '../../imaging/sniff.js';
import { assertInteger } from '../core/validate.js';

/** Default size cap of every source: 256 MiB, far above any real photograph. */
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

/** The first bytes of an input judged before the rest is read: 64 KiB. */
export const HEAD_BYTES = 64 * 1024;

/** The size and header limits the sources take. */
export interface SourceLimitOptions {
  /**
   * Largest input read, in bytes. A larger file fails at once from its `fstat` size, a larger
   * download as soon as its `Content-Length` or its bytes pass the cap; either way with code
   * `FILE_TOO_LARGE` at stage `read`, and nothing of it is kept. Default 256 MiB.
   */
  readonly maxBytes?: number;
  /**
   * Most pixels an input may declare in its header (JPEG, PNG, WebP) when it is judged from its first
   * bytes; more gives `IMAGE_TOO_MANY_PIXELS` at stage `read` before the rest is read. Default
   * 100,000,000, the default of `resize`.
   */
  readonly maxPixels?: number;
}

export interface SourceLimits {
  readonly maxBytes: number;
  readonly maxPixels: number;
}

/** Validates {@link SourceLimitOptions}; throws TypeError/RangeError. */
export function limitOptions(options: SourceLimitOptions): SourceLimits {
  const { maxBytes = DEFAULT_MAX_BYTES, maxPixels = DEFAULT_MAX_PIXELS } = options;
  return {
    maxBytes: assertInteger('maxBytes', maxBytes, 1),
    maxPixels: assertInteger('maxPixels', maxPixels, 1),
  };
}

/** The `FILE_TOO_LARGE` error of an input over the cap; `size` when it is known. */
export function tooLarge(ref: string, maxBytes: number, size?: number): AthenaError {
  const what = size === undefined ? 'more than' : `${size} bytes, more than`;
  return new AthenaError('FILE_TOO_LARGE', `${ref} has ${what} the limit of ${maxBytes} bytes`, {
    details: String(maxBytes),
  });
}

/**
 * Judges an input larger than {@link HEAD_BYTES} from its first bytes: `UNSUPPORTED_FORMAT` when
 * they are in no image format, `IMAGE_TOO_MANY_PIXELS` when the header declares more pixels than
 * allowed, `undefined` when nothing can be told yet (the rest must be read).
 */
export function judgeHead(ref: string, head: Uint8Array, limits: SourceLimits): AthenaError | undefined {
  if (detectImageFormat(head) === ImageFormat.IMAGE_FORMAT_UNSPECIFIED) {
    return new AthenaError(
      'UNSUPPORTED_FORMAT',
      `${ref} is not in a recognised image format (judged from its first ${head.byteLength} bytes)`,
    );
  }
  const header = readImageHeader(head);
  if (header !== undefined && header.width * header.height > limits.maxPixels) {
    return new AthenaError(
      'IMAGE_TOO_MANY_PIXELS',
      `${ref} declares ${header.width}x${header.height} pixels, more than the limit of ${limits.maxPixels}`,
    );
  }
  return undefined;
}
