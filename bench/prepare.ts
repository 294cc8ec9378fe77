import sharp from 'sharp';
import { resizeBilinear } from '../src/imaging/bilinear.js';
import { decodePixels } from '../src/imaging/decode.js';
import { DEFAULT_MAX_PIXELS, prepareImage } from '../src/imaging/prepare.js';
import { type CorpusFile } from './corpus.js';
import { floorDecode } from './floor.js';
import { allLatencies, timedPass, wallPerItem, type PassTiming } from './pool.js';
import { median, now, p95 } from './stats.js';

export type Variant = 'floor' | 'exact' | 'fast';
export const VARIANTS: readonly Variant[] = ['floor', 'exact', 'fast'];
export const IN_FLIGHT: readonly number[] = [1, 2];

const work: Record<Variant, (data: Uint8Array) => Promise<unknown>> = {
  floor: floorDecode,
  exact: (data) => prepareImage(data, { mode: 'exact' }),
  fast: (data) => prepareImage(data, { mode: 'fast' }),
};

/** One variant at one concurrency over all rounds. */
export interface PrepareRow {
  readonly variant: Variant;
  readonly inFlight: number;
  readonly images: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  /** Wall time of the passes divided by their images (1000 / images per second). */
  readonly wallMsPerImage: number;
  readonly imagesPerSecond: number;
  /** wallMsPerImage / the floor's, pooled over all rounds. */
  readonly ratioPooled: number;
  /** The same ratio round by round (each round's own floor): median, min, max. */
  readonly ratioRounds: { readonly median: number; readonly min: number; readonly max: number };
}

/** How far fast mode's pixels are from exact mode's. */
export interface Drift {
  readonly images: number;
  /** Images whose fast output differs from the exact output in at least one byte. */
  readonly differing: number;
  /** Largest absolute difference of any byte of any image. */
  readonly maxAbs: number;
  /** Mean absolute difference over every byte of every image. */
  readonly meanAbs: number;
  /** The image with the largest mean absolute difference, and that mean. */
  readonly worst: { readonly name: string; readonly meanAbs: number; readonly maxAbs: number };
  /** Mean absolute difference per image, in corpus order. */
  readonly perImage: number[];
}

/** Where exact mode's time goes, one image at a time (medians over the corpus, ms). */
export interface Breakdown {
  readonly floorMs: number;
  /** sharp decode as exact mode asks for it (header read, decode, colourspace), libuv thread. */
  readonly decodeMs: number;
  /** The OpenCV-exact bilinear stretch (WebAssembly SIMD), on the main thread. */
  readonly bilinearMs: number;
  /** Sums over the corpus, ms, to compare with the per-image medians. */
  readonly floorTotalMs: number;
  readonly decodeTotalMs: number;
  readonly bilinearTotalMs: number;
}

/** One corpus file: what it is, and its median latency per variant at 1 in flight over all rounds. */
export interface PerFile {
  readonly name: string;
  readonly format: string;
  readonly width: number;
  readonly height: number;
  readonly progressive: boolean;
  readonly floorMs: number;
  readonly exactMs: number;
  readonly fastMs: number;
  /** Mean absolute difference of fast from exact, grey levels. */
  readonly driftMean: number;
}

/** The largest corpus JPEG re-encoded baseline and progressive: exact and fast medians, ms. */
export interface ScanCheck {
  readonly source: string;
  readonly rows: { readonly progressive: boolean; readonly exactMs: number; readonly fastMs: number }[];
}

export interface PrepareResult {
  readonly rounds: number;
  readonly scanCheck?: ScanCheck;
  readonly perFile: PerFile[];
  readonly breakdown: Breakdown;
  readonly corpusImages: number;
  readonly rows: PrepareRow[];
  readonly drift: Drift;
  /** The exact-mode outputs, one per corpus file (input of the Brotli step). */
  readonly prepared: Uint8Array[];
}

/**
 * Measures the floor and both modes of `prepareImage`, interleaved round by round: every round
 * times the floor, exact and fast over the whole corpus, 1 and then 2 in flight (2 then 1 on odd
 * rounds), the variants in an order that rotates each round, so drifts in machine load fall on all
 * of them alike. An untimed pass first computes the exact and fast outputs (the drift figures and the
 * Brotli input) and warms every code path.
 */
export async function measurePrepare(files: readonly CorpusFile[], rounds: number): Promise<PrepareResult> {
  const inputs = files.map((f) => f.data);
  const prepared: Uint8Array[] = [];
  const drift = await measureDrift(files, prepared);
  await timedPass(inputs, 2, floorDecode);

  const passes = new Map<string, PassTiming[]>();
  const key = (v: Variant, n: number): string => `${v}/${n}`;
  for (let round = 0; round < rounds; round += 1) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]!);
    const flights = round % 2 === 0 ? IN_FLIGHT : [...IN_FLIGHT].reverse();
    for (const inFlight of flights) {
      for (const variant of order) {
        const pass = await timedPass(inputs, inFlight, work[variant]);
        const list = passes.get(key(variant, inFlight)) ?? [];
        list.push(pass);
        passes.set(key(variant, inFlight), list);
      }
    }
  }

  const perFileMedian = (variant: Variant, i: number): number =>
    median((passes.get(key(variant, 1)) ?? []).map((p) => p.latencies[i]!));
  const perFile = await Promise.all(
    files.map(async (file, i): Promise<PerFile> => {
      const meta = await sharp(file.data).metadata();
      return {
        name: file.name,
        format: meta.format ?? '?',
        width: meta.width ?? 0,
        height: meta.height ?? 0,
        progressive: meta.isProgressive === true,
        floorMs: perFileMedian('floor', i),
        exactMs: perFileMedian('exact', i),
        fastMs: perFileMedian('fast', i),
        driftMean: drift.perImage[i] ?? Number.NaN,
      };
    }),
  );

  const rows: PrepareRow[] = [];
  for (const inFlight of IN_FLIGHT) {
    const floor = passes.get(key('floor', inFlight)) ?? [];
    for (const variant of VARIANTS) {
      const list = passes.get(key(variant, inFlight)) ?? [];
      const lat = allLatencies(list);
      const perImage = wallPerItem(list);
      const perRound = list.map((p, i) => p.wallMs / (floor[i]?.wallMs ?? Number.NaN));
      rows.push({
        variant,
        inFlight,
        images: lat.length,
        medianMs: median(lat),
        p95Ms: p95(lat),
        wallMsPerImage: perImage,
        imagesPerSecond: 1000 / perImage,
        ratioPooled: perImage / wallPerItem(floor),
        ratioRounds: { median: median(perRound), min: Math.min(...perRound), max: Math.max(...perRound) },
      });
    }
  }
  const breakdown = await measureBreakdown(inputs);
  const scanCheck = await measureScanCheck(files, perFile);
  return {
    rounds,
    ...(scanCheck ? { scanCheck } : {}),
    perFile,
    breakdown,
    corpusImages: files.length,
    rows,
    drift,
    prepared,
  };
}

/**
 * Re-encodes the largest JPEG of the corpus as baseline and as progressive (quality 90, libjpeg-turbo)
 * and times both modes on each, 5 times at 1 in flight: shrink-on-load saves the inverse DCT only.
 */
async function measureScanCheck(
  files: readonly CorpusFile[],
  perFile: readonly PerFile[],
): Promise<ScanCheck | undefined> {
  const jpegs = perFile
    .filter((f) => f.format === 'jpeg')
    .sort((a, b) => b.width * b.height - a.width * a.height);
  const largest = files.find((f) => f.name === jpegs[0]?.name);
  if (largest === undefined) return undefined;
  const rows: ScanCheck['rows'] = [];
  for (const progressive of [false, true]) {
    const bytes = await sharp(largest.data).jpeg({ quality: 90, progressive, mozjpeg: false }).toBuffer();
    const runs = Array.from({ length: 5 }, () => bytes);
    const exact = await timedPass(runs, 1, work.exact);
    const fast = await timedPass(runs, 1, work.fast);
    rows.push({ progressive, exactMs: median(exact.latencies), fastMs: median(fast.latencies) });
  }
  return { source: largest.name, rows };
}

async function measureBreakdown(inputs: readonly Uint8Array[]): Promise<Breakdown> {
  const floor = await timedPass(inputs, 1, floorDecode);
  const decode: number[] = [];
  const bilinear: number[] = [];
  for (const data of inputs) {
    const t0 = now();
    const d = await decodePixels(data, { maxPixels: DEFAULT_MAX_PIXELS, failOn: 'error' });
    const t1 = now();
    resizeBilinear(d.data, d.width, d.height, d.layout, 448, 448);
    bilinear.push(now() - t1);
    decode.push(t1 - t0);
  }
  const sum = (xs: readonly number[]): number => xs.reduce((a, x) => a + x, 0);
  return {
    floorMs: median(floor.latencies),
    decodeMs: median(decode),
    bilinearMs: median(bilinear),
    floorTotalMs: sum(floor.latencies),
    decodeTotalMs: sum(decode),
    bilinearTotalMs: sum(bilinear),
  };
}

async function measureDrift(files: readonly CorpusFile[], prepared: Uint8Array[]): Promise<Drift> {
  let differing = 0;
  let maxAbs = 0;
  let sum = 0;
  let bytes = 0;
  let worst = { name: '', meanAbs: -1, maxAbs: 0 };
  const perImage: number[] = [];
  for (const file of files) {
    const exact = (await prepareImage(file.data, { mode: 'exact' })).data;
    const fast = (await prepareImage(file.data, { mode: 'fast' })).data;
    prepared.push(exact);
    let imageSum = 0;
    let imageMax = 0;
    for (let i = 0; i < exact.length; i += 1) {
      const d = Math.abs(exact[i]! - fast[i]!);
      imageSum += d;
      if (d > imageMax) imageMax = d;
    }
    if (imageMax > 0) differing += 1;
    maxAbs = Math.max(maxAbs, imageMax);
    sum += imageSum;
    bytes += exact.length;
    const imageMean = imageSum / exact.length;
    perImage.push(imageMean);
    if (imageMean > worst.meanAbs) worst = { name: file.name, meanAbs: imageMean, maxAbs: imageMax };
  }
  return { images: files.length, differing, maxAbs, meanAbs: sum / bytes, worst, perImage };
}
