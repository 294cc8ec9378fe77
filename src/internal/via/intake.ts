/**
 * What `classifyVia` checks of an image before it is sent, and its wire form; and the outcome a
 * gateway message makes for the image it answers. Pure and Node-free.
 */
import { AthenaError, type AthenaErrorCode } from '../../errors.js';
import { HashType, ImageFormat, RequestEncoding } from '../../generated/athena/models.js';
import {
  labelsOf,
  toFailure,
  type Classified,
  type FailureStage,
  type ImageItem,
  type Outcome,
} from '../../model.js';
import {
  isWireId,
  MAX_WIRE_ID,
  PREPARED_BYTES,
  type ServerMessage,
  type WireImage,
} from '../gateway/protocol.js';

const HEX = /^[0-9a-f]+$/;
const STAGES: readonly FailureStage[] = [
  'read',
  'detect',
  'hash',
  'decode',
  'resize',
  'compress',
  'correlate',
  'validate',
  'classify',
  'timeout',
  'transport',
];

/** The image's wire form, or why it cannot be sent (a failure at stage `validate`). */
export function wireImage(item: ImageItem): WireImage | AthenaError {
  const id = item.correlationId;
  if (!isWireId(id)) {
    return new AthenaError(
      'INVALID_ID',
      `${item.ref}: a correlation id of 1-${MAX_WIRE_ID} characters (A-Z a-z 0-9 . _ : ~ -) is required: use correlate()`,
    );
  }
  if (item.format !== ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR) {
    return new AthenaError('INVALID_INPUT', `${item.ref} is not a prepared image: run resize() first`);
  }
  const encoding =
    item.encoding === RequestEncoding.REQUEST_ENCODING_BROTLI
      ? 'brotli'
      : item.encoding === RequestEncoding.REQUEST_ENCODING_UNCOMPRESSED
        ? 'raw'
        : undefined;
  if (encoding === undefined)
    return new AthenaError('INVALID_INPUT', `${item.ref}: only raw or Brotli bytes can be sent`);
  if (encoding === 'raw' && item.data.length !== PREPARED_BYTES) {
    return new AthenaError(
      'INVALID_INPUT',
      `${item.ref}: a prepared image is ${PREPARED_BYTES} bytes, got ${item.data.length}`,
    );
  }
  const md5 = digest(item, HashType.HASH_TYPE_MD5, 32);
  const sha1 = digest(item, HashType.HASH_TYPE_SHA1, 40);
  if (md5 === undefined || sha1 === undefined) {
    return new AthenaError(
      'INVALID_INPUT',
      `${item.ref}: the original's MD5 and SHA-1 are required: run hashImage()`,
    );
  }
  return { id, encoding, md5, sha1, data: item.data };
}

function digest(item: ImageItem, type: HashType, length: number): string | undefined {
  const value = item.hashes.find((hash) => hash.type === type)?.value.toLowerCase();
  return value !== undefined && value.length === length && HEX.test(value) ? value : undefined;
}

/** The outcome a gateway `outcome` message makes for `item`. */
export function outcomeOf(item: ImageItem, message: ServerMessage & { type: 'outcome' }): Outcome {
  if (message.ok) {
    const classifications = message.classifications.map(({ label, weight }) => ({ label, weight }));
    const classified: { -readonly [K in keyof Classified]: Classified[K] } = {
      kind: 'classified',
      ok: true,
      ref: item.ref,
      correlationId: message.id,
      classifications,
      labels: labelsOf(classifications),
    };
    if (item.index !== undefined) classified.index = item.index;
    if (item.meta !== undefined) classified.meta = item.meta;
    if (item.lease !== undefined) classified.lease = item.lease;
    return classified;
  }
  const stage = (STAGES as readonly string[]).includes(message.stage)
    ? (message.stage as FailureStage)
    : 'classify';
  return toFailure(item, stage, new AthenaError(message.code as AthenaErrorCode, message.message));
}
