import type * as NodeCrypto from 'node:crypto';
import { forkJoin, from, map, of, type ObservableInput, type OperatorFunction } from 'rxjs';
import { AthenaError } from '../errors.js';
import {
  HashType,
  ImageFormat,
  RequestEncoding,
  toFailure,
  type ImageHash,
  type ItemOrFailure,
} from '../model.js';
import { mapItems } from '../internal/work/item-work.js';
import { assertFunction, assertInteger } from '../internal/core/validate.js';

/** Computes one digest of `data` as lowercase hex. */
export type HashWork = (data: Uint8Array, type: HashType) => ObservableInput<string>;

export interface HashImageOptions {
  /** Digests to compute. Default MD5 and SHA1. */
  readonly types?: readonly HashType[];
  /** Items hashed at once. Default 1 (hashing is quick, and order is kept). */
  readonly concurrency?: number;
  /** The digest function; default `node:crypto`, loaded on first use. For tests. */
  readonly hash?: HashWork;
}

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
  const types = typesOption(options.types);
  const concurrency =
    options.concurrency === undefined ? 1 : assertInteger('concurrency', options.concurrency, 1);
  const hash = options.hash === undefined ? nodeHash : assertFunction<HashWork>('hash', options.hash);
  return mapItems(
    (item) => {
      const missing = types.filter((type) => !item.hashes.some((h) => h.type === type));
      if (missing.length === 0) return of(item);
      if (
        item.format === ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR ||
        item.encoding === RequestEncoding.REQUEST_ENCODING_BROTLI
      ) {
        const message = `${item.ref}: hashImage() needs the original file bytes; put it before resize() and compress()`;
        return of(toFailure(item, 'hash', new AthenaError('INVALID_INPUT', message)));
      }
      return forkJoin(missing.map((type) => from(hash(item.data, type)))).pipe(
        map((values) => {
          const added: ImageHash[] = values.map((value, i) => ({
            value: value.toLowerCase(),
            type: missing[i]!,
          }));
          return { ...item, hashes: [...item.hashes, ...added] };
        }),
      );
    },
    { concurrency, stage: 'hash', code: 'UNKNOWN', phase: 'hash' },
  );
}

function typesOption(value: unknown): readonly HashType[] {
  if (value === undefined) return [HashType.HASH_TYPE_MD5, HashType.HASH_TYPE_SHA1];
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError('types must be a non-empty array of HashType values');
  }
  for (const type of value) {
    if (!ALGORITHMS.has(type as HashType)) {
      throw new RangeError(`types may hold HASH_TYPE_MD5 (1) and HASH_TYPE_SHA1 (2), got ${String(type)}`);
    }
  }
  return [...new Set(value as HashType[])];
}
