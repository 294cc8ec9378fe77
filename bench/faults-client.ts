/**
 * The client of one fault scenario, run in a child process of its own: pre-built 448 x 448 BGR
 * Brotli images through `fromBuffers` -> `correlate` -> `batch` -> `classify` with classify's default
 * options, counting outcomes per input, classify's events, and this process's peak RSS.
 */
import { brotliCompressSync, constants } from 'node:zlib';
import { map } from 'rxjs';
import { ImageFormat, RequestEncoding, type ItemOrFailure, type Outcome } from '../src/model.js';
import { batch } from '../src/operators/batch.js';
import { classify } from '../src/operators/classify.js';
import { correlate } from '../src/operators/correlate.js';
import { fromBuffers } from '../src/sources/fromBuffers.js';
import { type ClassifyEvent } from '../src/transport/contracts.js';
import { DEFAULT_BROTLI_QUALITY } from '../src/operators/compress.js';
import { BATCH_SIZE, BATCH_WAIT_MS, benchClient, BENCH_AFFILIATE } from './pipeline.js';
import { sampleMemory } from './sampler.js';
import { now } from './stats.js';

/** What one scenario's client does; plain data, so it can cross into the child process. */
export interface FaultJob {
  readonly address: string;
  readonly images: number;
  readonly deploymentId: string;
  /** Items the source may read ahead of their outcomes (`fromBuffers`' window). */
  readonly window: number;
  /** The source waits before this image until `release()` is called (the fault is being put in place). */
  readonly holdAt?: number;
}

/** What the client saw. */
export interface FaultRun {
  readonly images: number;
  readonly classified: number;
  /** Failed outcomes by stage, e.g. `{ transport: 12 }`. */
  readonly failedByStage: Readonly<Record<string, number>>;
  /** Inputs with more than one outcome. */
  readonly duplicates: number;
  /** Inputs with no outcome at all. */
  readonly lost: number;
  /** Counts of classify's events by type (`reconnect`, `stall`, `resent` in items, `duplicate`...). */
  readonly events: Readonly<Record<string, number>>;
  /** Seconds from the start to the first and the last `reconnect` or `stall` event. */
  readonly firstBreakS?: number;
  readonly lastBreakS?: number;
  /** The distinct errors the reconnect events carried, at most five. */
  readonly breakErrors: readonly string[];
  /** Epoch ms when the run started, to put the fault's actions on the same time line. */
  readonly startedAtMs: number;
  readonly wallS: number;
  readonly startRssMb: number;
  readonly peakRssMb: number;
  /** The error the run ended with, if it did not complete. */
  readonly error?: string;
  readonly firstFailure?: string;
  /** Mean size of the Brotli images sent, bytes. */
  readonly imageBytes: number;
}

const SIDE = 448;

/** A smooth 448 x 448 BGR gradient with noise on about half of its 16-pixel tiles, so Brotli leaves ~470 KB. */
function photoLike(seed: number): Buffer {
  const raw = Buffer.alloc(SIDE * SIDE * 3);
  let s = (seed * 2_654_435_761) >>> 0;
  for (let y = 0, i = 0; y < SIDE; y += 1) {
    for (let x = 0; x < SIDE; x += 1) {
      const noisy = ((x >> 4) * 7 + (y >> 4) * 13 + seed) % 100 < 55;
      for (const base of [x + seed * 37, y + seed * 11, (x ^ y) + seed]) {
        s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
        raw[i++] = (base + (noisy ? (s >>> 24) % 16 : 0)) & 0xff;
      }
    }
  }
  const { BROTLI_PARAM_QUALITY, BROTLI_PARAM_SIZE_HINT } = constants;
  return brotliCompressSync(raw, {
    params: { [BROTLI_PARAM_QUALITY]: DEFAULT_BROTLI_QUALITY, [BROTLI_PARAM_SIZE_HINT]: raw.length },
  });
}

async function* source(job: FaultJob, images: readonly Buffer[], hold: () => Promise<void>) {
  for (let i = 0; i < job.images; i += 1) {
    if (i === job.holdAt) await hold();
    yield { name: `img-${i}`, data: images[i % images.length]! };
  }
}

const asBrotliBgr = (value: ItemOrFailure): ItemOrFailure =>
  value.kind === 'image'
    ? {
        ...value,
        format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR,
        encoding: RequestEncoding.REQUEST_ENCODING_BROTLI,
      }
    : value;

/** Runs one scenario's client; `hold` is awaited when the source reaches `job.holdAt`. */
export async function runFaultClient(job: FaultJob, hold: () => Promise<void>): Promise<FaultRun> {
  const images = [1, 2, 3, 4].map(photoLike);
  const client = benchClient(job.address);
  const perRef = new Map<string, number>();
  const failedByStage: Record<string, number> = {};
  const events: Record<string, number> = {};
  const breakErrors = new Set<string>();
  let classified = 0;
  let firstFailure: string | undefined;
  let firstBreakS: number | undefined;
  let lastBreakS: number | undefined;
  const t0 = now();
  const startedAtMs = Date.now();
  const sampler = sampleMemory(200, () => classified);
  const onEvent = (e: ClassifyEvent): void => {
    events[e.type] = (events[e.type] ?? 0) + (e.type === 'resent' ? e.items : 1);
    if (e.type === 'reconnect' || e.type === 'stall') {
      lastBreakS = (now() - t0) / 1000;
      firstBreakS ??= lastBreakS;
    }
    if (e.type === 'reconnect' && breakErrors.size < 5) breakErrors.add(e.error.message.split('\n')[0]!);
  };
  const onOutcome = (o: Outcome): void => {
    perRef.set(o.ref, (perRef.get(o.ref) ?? 0) + 1);
    if (o.kind === 'classified') classified += 1;
    else {
      failedByStage[o.stage] = (failedByStage[o.stage] ?? 0) + 1;
      firstFailure ??= `${o.stage} ${o.error.code}: ${o.error.message}`;
    }
  };
  const error = await new Promise<string | undefined>((resolve) => {
    fromBuffers(source(job, images, hold), { window: job.window })
      .pipe(
        map(asBrotliBgr),
        correlate(),
        batch({ size: BATCH_SIZE, maxWaitMs: BATCH_WAIT_MS }),
        classify(client, {
          deploymentId: job.deploymentId,
          affiliate: BENCH_AFFILIATE,
          events: { next: onEvent },
        }),
      )
      .subscribe({
        next: onOutcome,
        error: (e: unknown) => resolve(e instanceof Error ? e.message : String(e)),
        complete: () => resolve(undefined),
      });
  });
  const wallS = (now() - t0) / 1000;
  const samples = sampler.stop();
  client.close();
  let duplicates = 0;
  for (const n of perRef.values()) if (n > 1) duplicates += 1;
  return {
    images: job.images,
    classified,
    failedByStage,
    duplicates,
    lost: job.images - perRef.size,
    events,
    ...(firstBreakS === undefined ? {} : { firstBreakS, lastBreakS }),
    breakErrors: [...breakErrors],
    startedAtMs,
    wallS,
    startRssMb: samples[0]!.rssMb,
    peakRssMb: Math.max(...samples.map((s) => s.rssMb)),
    ...(error === undefined ? {} : { error }),
    ...(firstFailure === undefined ? {} : { firstFailure }),
    imageBytes: images.reduce((a, b) => a + b.length, 0) / images.length,
  };
}
