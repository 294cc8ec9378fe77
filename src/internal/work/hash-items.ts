/**
 * The item side of `hashImage`, shared by Node's operator (`node:crypto`) and the browser's
 * (`hash-wasm`): option checks, which digests an item still lacks, refusing prepared or compressed
 * bytes, and adding the lowercase hex digests. The digest function is plugged in.
 */
import { forkJoin, from, map, of, type ObservableInput, type OperatorFunction } from 'rxjs';
import { AthenaError } from '../../errors.js';
import {
  HashType,
  ImageFormat,
  RequestEncoding,
  toFailure,
  type ImageHash,
  type ItemOrFailure,
} from '../../model.js';
import { mapItems } from './item-work.js';
import { assertFunction, assertInteger } from '../core/validate.js';

/** Computes one digest of `data` as lowercase hex. */
export type HashWork = (data: Uint8Array, type: HashType) => ObservableInput<string>;

export interface HashImageOptions {
  /** Digests to compute. Default MD5 and SHA1. */
  readonly types?: readonly HashType[];
  /** Items hashed at once. Default 1 (hashing is quick, and order is kept). */
  readonly concurrency?: number;
  /** The digest function; by default the platform's (see `hashImage`). For tests. */
  readonly hash?: HashWork;
}

/** The digests `hashImage` knows. */
export const HASH_TYPES: ReadonlySet<HashType> = new Set([HashType.HASH_TYPE_MD5, HashType.HASH_TYPE_SHA1]);

/** Validates `options` (TypeError / RangeError) and returns the operator, `defaultHash` unless `options.hash`. */
export function hashItems(
  defaultHash: HashWork,
  options: HashImageOptions,
): OperatorFunction<ItemOrFailure, ItemOrFailure> {
  const types = typesOption(options.types);
  const concurrency =
    options.concurrency === undefined ? 1 : assertInteger('concurrency', options.concurrency, 1);
  const hash = options.hash === undefined ? defaultHash : assertFunction<HashWork>('hash', options.hash);
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
    if (!HASH_TYPES.has(type as HashType)) {
      throw new RangeError(`types may hold HASH_TYPE_MD5 (1) and HASH_TYPE_SHA1 (2), got ${String(type)}`);
    }
  }
  return [...new Set(value as HashType[])];
}
