import { AthenaError } from '../../errors.js';
import {
  ImageFormat,
  type ClassificationInput,
  type ClassifyRequest,
  type ImageHash,
} from '../../generated/athena/models.js';
import type { ImageItem } from '../../model.js';
import { MAX_ID_LENGTH } from '../core/limits.js';

/**
 * What keeps an item off the wire, checked before it is sent: a missing, empty or too long correlation
 * id (`INVALID_ID`), or bytes without a format (`INVALID_INPUT`). Uniqueness is the pending table's job.
 */
export function checkItem(item: ImageItem): AthenaError | undefined {
  const id = item.correlationId;
  if (typeof id !== 'string' || id.length === 0) {
    return new AthenaError(
      'INVALID_ID',
      `${item.ref} has no correlation id: give every item one with correlate() before classifying`,
    );
  }
  if (id.length > MAX_ID_LENGTH) {
    return new AthenaError(
      'INVALID_ID',
      `${item.ref}: correlation id is ${id.length} characters, at most ${MAX_ID_LENGTH} are allowed`,
    );
  }
  if (item.data.length > 0 && item.format === ImageFormat.IMAGE_FORMAT_UNSPECIFIED) {
    return new AthenaError(
      'INVALID_INPUT',
      `${item.ref} has image data but no format: run detectFormat() or resize() first`,
    );
  }
  return undefined;
}

/** The wire form of a checked item. */
export function toClassificationInput(item: ImageItem, affiliate: string): ClassificationInput {
  return {
    affiliate,
    correlationId: item.correlationId ?? '',
    encoding: item.encoding,
    data: wireBytes(item.data),
    format: item.format,
    hashes: item.hashes.map((hash: ImageHash) => ({ value: hash.value, type: hash.type })),
  };
}

/** A request with these inputs; no inputs makes the application keepalive. */
export function classifyRequest(deploymentId: string, inputs: ClassificationInput[] = []): ClassifyRequest {
  return { deploymentId, inputs };
}

/**
 * The generated types want a `Buffer`; the encoder only needs a `Uint8Array`. Wraps the bytes without
 * copying where `Buffer` exists, and passes them as they are elsewhere (browser bundles).
 */
function wireBytes(data: Uint8Array): Buffer {
  const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;
  if (NodeBuffer === undefined || NodeBuffer.isBuffer(data)) return data as Buffer;
  return NodeBuffer.from(data.buffer, data.byteOffset, data.byteLength);
}
