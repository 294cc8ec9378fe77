import { md5, sha1 } from 'hash-wasm';
import { type OperatorFunction } from 'rxjs';
import { hashItems, type HashImageOptions, type HashWork } from '../internal/work/hash-items.js';
import { HashType, type ItemOrFailure } from '../model.js';

/** MD5 and SHA-1 with `hash-wasm` (WebAssembly, embedded in its JavaScript: nothing to fetch). */
const wasmHash: HashWork = (data, type) => (type === HashType.HASH_TYPE_MD5 ? md5(data) : sha1(data));

/**
 * The browser's `hashImage`: adds MD5 and SHA1 digests of the ORIGINAL file bytes to each item
 * (`hashes`, lowercase hex), the same fields and failures as `hashImage` from `athena-rx/operators`,
 * computed with `hash-wasm` instead of `node:crypto`.
 *
 * ```text
 * source:  --a---b(resized)---F--|
 * output:  --a'--F(hash,INVALID_INPUT)---F--|     a' = a with hashes [md5, sha1]
 * ```
 *
 * Put it before `resize`: the digests are of the file as the user has it, which the service matches
 * against known hashes. An item already prepared (`IMAGE_FORMAT_RAW_UINT8_BGR`) or Brotli-encoded
 * becomes a `hash` failure with code `INVALID_INPUT`; failures pass through.
 *
 * @example
 * ```ts ignore
 * import { fromFileList, hashImage, resize } from 'athena-rx/browser';
 *
 * fromFileList(input.files!).pipe(hashImage(), resize({ worker }));
 * ```
 *
 * @param options - `types` (default `[HASH_TYPE_MD5, HASH_TYPE_SHA1]`), `concurrency` (1), `hash`.
 */
export function hashImage(options: HashImageOptions = {}): OperatorFunction<ItemOrFailure, ItemOrFailure> {
  return hashItems(wasmHash, options);
}
