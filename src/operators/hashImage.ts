import type * as NodeCrypto from 'node:crypto';
import { type OperatorFunction } from 'rxjs';
import { HashType, type ItemOrFailure } from '../model.js';
import { hashItems, type HashImageOptions, type HashWork } from '../internal/work/hash-items.js';

export type { HashImageOptions, HashWork };

const ALGORITHMS = new Map<HashType, string>([
  [HashType.HASH_TYPE_MD5, 'md5'],
  [HashType.HASH_TYPE_SHA1, 'sha1'],
]);

let nodeCrypto: Promise<typeof NodeCrypto> | undefined;

const nodeHash: HashWork = async (data, type) => {
  const { createHash } = await (nodeCrypto ??= import('#node-crypto'));
  return createHash(ALGORITHMS.get(type) ?? 'sha1')
    .update(data)
    .digest('hex');
};

/**
 * Adds MD5 and SHA1 digests of the ORIGINAL file bytes to each item (`hashes`, lowercase hex), which
 * the service matches against known hashes (`KnownCSAM-MD5` / `KnownCSAM-SHA1`).
 *
 * ```text
 * b already resized (raw BGR); F a failure
 * source:  --a---b---F--|
 * output:  --A---x---F--|     A = a with hashes [md5, sha1]; x a `hash` failure, INVALID_INPUT
 * ```
 *
 * Put it before `resize` and `compress`: once the bytes are prepared pixels
 * (`IMAGE_FORMAT_RAW_UINT8_BGR`) or Brotli, their digests match nothing, so such an item becomes a
 * `hash` failure with code `INVALID_INPUT` instead of carrying wrong hashes. An item that already
 * has every requested digest passes unchanged. Failures pass through. An item with a `trace` (its
 * source records telemetry) gets its hashing recorded as the step `athena.image.hash`.
 *
 * @example
 * ```ts
 * import { fromDirectory } from 'athena-rx/sources';
 * import { hashImage, resize } from 'athena-rx/operators';
 *
 * fromDirectory('./inbox').pipe(hashImage(), resize());
 * ```
 *
 * @param options - `types` (default `[HASH_TYPE_MD5, HASH_TYPE_SHA1]`), `concurrency` (1), `hash`.
 */
export function hashImage(options: HashImageOptions = {}): OperatorFunction<ItemOrFailure, ItemOrFailure> {
  return hashItems(nodeHash, options);
}
