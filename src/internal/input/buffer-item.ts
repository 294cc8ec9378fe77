import { AthenaError } from '../../errors.js';
import { imageItem, toFailure, type ItemOrFailure } from '../../model.js';
import { tooLarge } from './limits.js';

/** An image already in memory: its bytes, and optionally a name used as `ref` and user data. */
export interface NamedBuffer {
  readonly name?: string;
  readonly data: Uint8Array | ArrayBuffer;
  readonly meta?: Readonly<Record<string, unknown>>;
}

/**
 * Turns a buffer or a {@link NamedBuffer} into an item with `ref` = the name or `buffer-<index>`; an
 * empty buffer is an `EMPTY_INPUT` failure, one over `maxBytes` a `FILE_TOO_LARGE` failure (that no
 * longer holds the bytes), anything else an `INVALID_INPUT` failure.
 */
export function bufferItem(value: unknown, index: number, maxBytes = Infinity): ItemOrFailure {
  const named = isBytes(value) ? { data: value } : (value as Partial<NamedBuffer> | null | undefined);
  const ref = typeof named?.name === 'string' && named.name.length > 0 ? named.name : `buffer-${index}`;
  const data = named?.data;
  const meta = named?.meta;
  if (!isBytes(data)) {
    const error = new AthenaError('INVALID_INPUT', `${ref} is neither a Uint8Array nor { name, data }`);
    return toFailure({ ref, index }, 'read', error);
  }
  if (data.byteLength > maxBytes) {
    return toFailure({ ref, index, meta }, 'read', tooLarge(ref, maxBytes, data.byteLength));
  }
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (bytes.byteLength === 0) {
    return toFailure({ ref, index, meta }, 'read', new AthenaError('EMPTY_INPUT', `${ref} is empty`));
  }
  return imageItem(meta === undefined ? { ref, data: bytes, index } : { ref, data: bytes, index, meta });
}

function isBytes(value: unknown): value is Uint8Array | ArrayBuffer {
  return value instanceof Uint8Array || value instanceof ArrayBuffer;
}
