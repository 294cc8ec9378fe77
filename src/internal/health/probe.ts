/**
 * src/internal/health/ holds what `checkHealth` needs besides the client: the built-in probe image of
 * the deep check and the test that its ClassifySingle answer is well formed.
 */
import { AthenaError } from '../../errors.js';
import {
  type ClassificationInput,
  type ClassificationOutput,
  ImageFormat,
  RequestEncoding,
} from '../../generated/athena/models.js';
import { MODEL_INPUT_SIZE } from '../../imaging/prepare.js';
import { fromClassificationError } from '../../outputs.js';

/** Side of the prepared image the service classifies. */
const SIDE = MODEL_INPUT_SIZE;

let probeBytes: Buffer | undefined;

/**
 * A 448x448 raw BGR image built at run time (a smooth colour gradient, so it has some content), made
 * once and shared: the bytes are never written to.
 */
export function probeImage(): Buffer {
  if (probeBytes !== undefined) return probeBytes;
  const bytes = Buffer.alloc(SIDE * SIDE * 3);
  for (let y = 0; y < SIDE; y += 1) {
    for (let x = 0; x < SIDE; x += 1) {
      const at = (y * SIDE + x) * 3;
      bytes[at] = (x * 255) / (SIDE - 1); // blue
      bytes[at + 1] = (y * 255) / (SIDE - 1); // green
      bytes[at + 2] = ((x + y) * 127) / (SIDE - 1); // red
    }
  }
  probeBytes = bytes;
  return bytes;
}

/** The ClassifySingle input of the deep check. */
export function probeInput(affiliate: string, correlationId: string): ClassificationInput {
  return {
    affiliate,
    correlationId,
    encoding: RequestEncoding.REQUEST_ENCODING_UNCOMPRESSED,
    data: probeImage(),
    format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR,
    hashes: [],
  };
}

/**
 * Why `output` is not a well-formed answer to the probe sent as `correlationId`, or `undefined` when it
 * is: the id echoed, no error, at least one classification, every label named and every weight a
 * finite number of at least 0 (`UnknownCSAM-Entropy` may exceed 1). An error the service answered keeps its code (`MODEL_ERROR`, ...); a malformed
 * answer is `UNKNOWN`.
 */
export function probeAnswerProblem(
  output: ClassificationOutput,
  correlationId: string,
): AthenaError | undefined {
  if (output.error !== undefined) return fromClassificationError(output.error);
  const malformed = (why: string) => new AthenaError('UNKNOWN', `malformed ClassifySingle answer: ${why}`);
  if (output.correlationId !== correlationId) return malformed('another correlation id');
  if (output.classifications.length === 0) return malformed('no classifications');
  for (const { label, weight } of output.classifications) {
    if (label === '') return malformed('a classification without a label');
    if (!Number.isFinite(weight) || weight < 0) {
      return malformed(`label ${label} has weight ${weight}, not a finite number of at least 0`);
    }
  }
  return undefined;
}
