/**
 * The test page: reads the files the test serves under `inputs/` into `File`s, runs them through
 * `fromFileList`, `hashImage` and `resize` from the browser entry point (workers bundled as
 * `worker.js`, decoders' WebAssembly emitted by the bundler), and compares each prepared image with
 * the Node path's bytes served under `expected/`. The test calls `globalThis.athenaPage.run`.
 */
import jpeg from '@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm';
import png from '@jsquash/png/codec/pkg/squoosh_png_bg.wasm';
import webp from '@jsquash/webp/codec/dec/webp_dec.wasm';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { fromFileList, hashImage, resize, type WorkerLike } from '../../../src/browser/index.js';
import type { ItemOrFailure } from '../../../src/model.js';
import type { PageOutcome, PageRun, PageRunResult } from './page-types.js';

type WorkerConstructor = new (url: URL, options: { type: 'module' }) => WorkerLike;
const { Worker } = globalThis as unknown as { Worker: WorkerConstructor };
const page = globalThis as unknown as { location: { href: string } };

async function bytesAt(path: string): Promise<Uint8Array> {
  const response = await fetch(new URL(path, page.location.href));
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function compare(outcome: ItemOrFailure): Promise<PageOutcome> {
  if (outcome.kind === 'failure') {
    return {
      ref: outcome.ref,
      kind: 'failure',
      stage: outcome.stage,
      code: outcome.error.code,
      message: outcome.error.message,
    };
  }
  const expected = await bytesAt(`expected/${outcome.ref}.bgr`);
  let maxDiff = 0;
  let sum = 0;
  let differing = 0;
  const { data } = outcome;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(data[i]! - expected[i]!);
    if (d > 0) differing += 1;
    sum += d;
    if (d > maxDiff) maxDiff = d;
  }
  return {
    ref: outcome.ref,
    kind: 'image',
    length: data.length,
    width: outcome.width,
    height: outcome.height,
    hashes: outcome.hashes.map((h) => h.value),
    maxDiff: data.length === expected.length ? maxDiff : 256,
    meanDiff: sum / expected.length,
    differing,
  };
}

async function run(request: PageRun): Promise<PageRunResult> {
  const files = await Promise.all(
    request.names.map(async (name) => new File([await bytesAt(`inputs/${name}`)], name)),
  );
  const worker = (): WorkerLike =>
    new Worker(new URL(request.workerScript ?? 'worker.js', page.location.href), { type: 'module' });
  const started = performance.now();
  const source = fromFileList(files);
  const hashed = request.hash === false ? source : source.pipe(hashImage());
  const outcomes = await lastValueFrom(
    hashed.pipe(
      resize({ worker, size: request.size, mode: request.mode, wasm: { jpeg, png, webp } }),
      tap((value) => value.lease?.release()),
      toArray(),
    ),
  );
  const elapsedMs = performance.now() - started;
  const compared = request.compare === false ? [] : await Promise.all(outcomes.map(compare));
  return { elapsedMs, outcomes: compared, count: outcomes.length };
}

(globalThis as unknown as { athenaPage: { run: typeof run } }).athenaPage = { run };
