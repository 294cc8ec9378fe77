import { map, type OperatorFunction } from 'rxjs';
import { AthenaError } from '../errors.js';
import { detectImageFormat } from '../imaging/sniff.js';
import { ImageFormat, RequestEncoding, toFailure, type ItemOrFailure } from '../model.js';

export interface DetectFormatOptions {
  /**
   * Formats let through; any other detected format becomes an `UNSUPPORTED_FORMAT` failure.
   * Default: every format {@link detectImageFormat} recognises.
   */
  readonly accept?: readonly ImageFormat[];
}

/**
 * Sets each item's `format` from the magic numbers of its bytes (see `detectImageFormat`), so a
 * mislabelled file is caught before it costs a decode or a round trip.
 *
 * ```text
 * e: no bytes; u: bytes of no known format; F a failure
 * source:  --a----b----e----u---F--|
 * output:  --A----B----x----y---F--|     A, B with their format set; x EMPTY_INPUT; y UNSUPPORTED_FORMAT
 * ```
 *
 * Synchronous and pure. Failures pass through untouched, and so do items whose bytes cannot be
 * sniffed: already prepared (`IMAGE_FORMAT_RAW_UINT8_BGR`) or already Brotli-encoded. Empty bytes
 * give a `detect` failure coded `EMPTY_INPUT`; bytes in no known (or no accepted) format one coded
 * `UNSUPPORTED_FORMAT`.
 *
 * @example
 * ```ts
 * import { detectFormat, resize } from 'athena-rx/operators';
 * import { ImageFormat } from 'athena-rx';
 *
 * images$.pipe(detectFormat({ accept: [ImageFormat.IMAGE_FORMAT_JPEG, ImageFormat.IMAGE_FORMAT_PNG] }), resize());
 * ```
 * @param options.accept formats let through; default all recognised formats
 */
export function detectFormat(
  options: DetectFormatOptions = {},
): OperatorFunction<ItemOrFailure, ItemOrFailure> {
  const accept = options.accept === undefined ? undefined : acceptedFormats(options.accept);
  return map((value) => {
    if (value.kind !== 'image') return value;
    if (
      value.format === ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR ||
      value.encoding === RequestEncoding.REQUEST_ENCODING_BROTLI
    ) {
      return value;
    }
    if (value.data.byteLength === 0) {
      return toFailure(value, 'detect', new AthenaError('EMPTY_INPUT', `${value.ref} has no bytes`));
    }
    const format = detectImageFormat(value.data);
    if (format === ImageFormat.IMAGE_FORMAT_UNSPECIFIED) {
      return toFailure(
        value,
        'detect',
        new AthenaError('UNSUPPORTED_FORMAT', `${value.ref} is not in a recognised image format`),
      );
    }
    if (accept && !accept.has(format)) {
      return toFailure(
        value,
        'detect',
        new AthenaError(
          'UNSUPPORTED_FORMAT',
          `${value.ref} is ${ImageFormat[format]}, which is not accepted`,
        ),
      );
    }
    return value.format === format ? value : { ...value, format };
  });
}

function acceptedFormats(accept: unknown): ReadonlySet<ImageFormat> {
  if (!Array.isArray(accept)) throw new TypeError('accept must be an array of ImageFormat values');
  for (const format of accept) {
    if (typeof format !== 'number' || ImageFormat[format] === undefined) {
      throw new RangeError(`accept holds ${String(format)}, which is not an ImageFormat`);
    }
  }
  return new Set(accept as ImageFormat[]);
}
