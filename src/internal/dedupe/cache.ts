import { LRUCache } from 'lru-cache';
import { HashType, type Classified, type ImageItem } from '../../model.js';
import { assertInteger } from '../core/validate.js';

/** What the cache keeps of a classification: no ref, index, meta or lease of the item it was for. */
export type CachedClassification = Pick<Classified, 'correlationId' | 'classifications' | 'labels'>;

/** A bounded cache of classifications by content key; share one across runs to dedupe across them. */
export type DedupeCache = LRUCache<string, CachedClassification>;

export interface DedupeCacheOptions {
  /** Results kept at most. Default 10,000. */
  readonly maxEntries?: number;
  /** Approximate bytes of results kept at most. Default 16 MiB. */
  readonly maxBytes?: number;
  /** How long a result is reused, in milliseconds; 0 forever. Default 1 hour. */
  readonly ttlMs?: number;
}

/** Creates a {@link DedupeCache} bounded by entries, bytes and age. */
export function createDedupeCache(options: DedupeCacheOptions = {}): DedupeCache {
  const max = assertInteger('maxEntries', options.maxEntries ?? 10_000, 1);
  const maxSize = assertInteger('maxBytes', options.maxBytes ?? 16 * 1024 * 1024, 1);
  const ttl = assertInteger('ttlMs', options.ttlMs ?? 3_600_000, 0);
  return new LRUCache<string, CachedClassification>({
    max,
    maxSize,
    ...(ttl > 0 ? { ttl } : {}),
    sizeCalculation: (value) =>
      64 +
      2 * value.correlationId.length +
      value.classifications.reduce((n, c) => n + 48 + 4 * c.label.length, 0),
  });
}

/** The part of a classification the cache keeps. */
export function cacheEntryOf({ correlationId, classifications, labels }: Classified): CachedClassification {
  return { correlationId, classifications, labels };
}

/** The default dedupe key: the scope and the SHA1 (else MD5) of the original bytes, if known. */
export function contentKey(scope: string, item: ImageItem): string | undefined {
  const hash =
    item.hashes.find((h) => h.type === HashType.HASH_TYPE_SHA1) ??
    item.hashes.find((h) => h.type === HashType.HASH_TYPE_MD5);
  return hash === undefined ? undefined : `${scope}\u0000${hash.type}:${hash.value.toLowerCase()}`;
}

/** A cached classification given to `item`: its own ref, index, meta, lease and (if any) correlation id. */
export function cachedOutcome(item: ImageItem, result: CachedClassification): Classified {
  const { correlationId, classifications, labels } = result;
  return {
    kind: 'classified',
    ok: true,
    ...pickBase(item),
    correlationId: item.correlationId ?? correlationId,
    classifications,
    labels,
    cached: true,
  };
}

function pickBase(item: ImageItem): Pick<ImageItem, 'ref' | 'index' | 'meta' | 'lease'> {
  const { ref, index, meta, lease } = item;
  return {
    ref,
    ...(index === undefined ? {} : { index }),
    ...(meta === undefined ? {} : { meta }),
    ...(lease === undefined ? {} : { lease }),
  };
}
