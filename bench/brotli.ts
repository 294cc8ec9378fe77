import { brotliCompressSync, constants } from 'node:zlib';
import { median, now, p95 } from './stats.js';

/** One Brotli quality measured on prepared images. */
export interface BrotliRow {
  readonly quality: number;
  readonly images: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  /** Original bytes / compressed bytes over all images measured. */
  readonly ratio: number;
  readonly meanBytes: number;
}

export interface BrotliPlan {
  readonly qualities: readonly number[];
  /** Images measured per quality, at most. */
  readonly imagesPerQuality: number;
  /** Images measured for the slow qualities 10 and 11, at most. */
  readonly imagesSlow: number;
}

/** Compresses as `compress()` does by default (quality, size hint), synchronously on one core. */
export function brotli(data: Uint8Array, quality: number): Buffer {
  return brotliCompressSync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: quality,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.byteLength,
    },
  });
}

/**
 * Times Brotli at each quality on the prepared 448x448 BGR buffers, one image at a time on the main
 * thread (so each figure is the CPU cost of one image on one core). Images are taken spread over the
 * corpus; qualities 10 and 11 take about 1.5 s an image and see only `imagesSlow` of them.
 */
export function measureBrotli(prepared: readonly Uint8Array[], plan: BrotliPlan): BrotliRow[] {
  if (prepared.length === 0) return [];
  brotli(prepared[0]!, 1); // warm the code paths
  return plan.qualities.map((quality) => {
    const limit = quality >= 10 ? plan.imagesSlow : plan.imagesPerQuality;
    const images = pick(prepared, limit);
    const times: number[] = [];
    let raw = 0;
    let packed = 0;
    for (const image of images) {
      const t0 = now();
      const out = brotli(image, quality);
      times.push(now() - t0);
      raw += image.byteLength;
      packed += out.byteLength;
    }
    return {
      quality,
      images: images.length,
      medianMs: median(times),
      p95Ms: p95(times),
      ratio: raw / packed,
      meanBytes: packed / images.length,
    };
  });
}

function pick<T>(values: readonly T[], count: number): T[] {
  if (count >= values.length) return [...values];
  return Array.from({ length: count }, (_, i) => values[Math.floor((i * values.length) / count)]!);
}
