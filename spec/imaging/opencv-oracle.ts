/**
 * OpenCV compiled to WebAssembly (`@techstark/opencv-js`, OpenCV 4.5.1 without SIMD) as the
 * reference for `cv::resize`. Loading takes about a second: load it once per spec file.
 */
import { createRequire } from 'node:module';

interface CvMat {
  data: Uint8Array;
  rows: number;
  cols: number;
  delete(): void;
}

interface Cv {
  calledRun?: boolean;
  onRuntimeInitialized?: () => void;
  Mat: new (rows?: number, cols?: number, type?: number) => CvMat;
  Size: new (width: number, height: number) => unknown;
  CV_8UC3: number;
  INTER_LINEAR: number;
  COLOR_RGB2BGR: number;
  resize(src: CvMat, dst: CvMat, size: unknown, fx: number, fy: number, interpolation: number): void;
  cvtColor(src: CvMat, dst: CvMat, code: number): void;
}

export interface Oracle {
  /** `cv::resize(src, dst, Size(dstWidth, dstHeight), 0, 0, INTER_LINEAR)` of a packed 3-channel image. */
  resize(src: Uint8Array, width: number, height: number, dstWidth: number, dstHeight: number): Uint8Array;
  /** `cv::cvtColor(src, dst, COLOR_RGB2BGR)` of a packed 3-channel image. */
  rgbToBgr(src: Uint8Array, width: number, height: number): Uint8Array;
}

export async function loadOracle(): Promise<Oracle> {
  // The Emscripten runtime installs process-wide handlers that abort on any unhandled rejection;
  // keep the test runner's own handling by removing what it added.
  const rejectionHandlers = process.listeners('unhandledRejection');
  const exceptionHandlers = process.listeners('uncaughtException');
  const cv = createRequire(import.meta.url)('@techstark/opencv-js') as Cv;
  for (const listener of process.listeners('unhandledRejection')) {
    if (!rejectionHandlers.includes(listener)) process.off('unhandledRejection', listener);
  }
  for (const listener of process.listeners('uncaughtException')) {
    if (!exceptionHandlers.includes(listener)) process.off('uncaughtException', listener);
  }
  // The module is a thenable that resolves to itself: never await it directly.
  await new Promise<void>((resolve) => {
    if (cv.calledRun) resolve();
    else cv.onRuntimeInitialized = () => resolve();
  });

  const withMats = <T>(run: (a: CvMat, b: CvMat) => T, src: Uint8Array, width: number, height: number): T => {
    const a = new cv.Mat(height, width, cv.CV_8UC3);
    const b = new cv.Mat();
    try {
      a.data.set(src);
      return run(a, b);
    } finally {
      a.delete();
      b.delete();
    }
  };
  return {
    resize: (src, width, height, dstWidth, dstHeight) =>
      withMats(
        (a, b) => {
          cv.resize(a, b, new cv.Size(dstWidth, dstHeight), 0, 0, cv.INTER_LINEAR);
          return new Uint8Array(b.data);
        },
        src,
        width,
        height,
      ),
    rgbToBgr: (src, width, height) =>
      withMats(
        (a, b) => {
          cv.cvtColor(a, b, cv.COLOR_RGB2BGR);
          return new Uint8Array(b.data);
        },
        src,
        width,
        height,
      ),
  };
}

/** Largest absolute difference between two byte arrays of the same length. */
export function maxAbsDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > max) max = d;
  }
  return max;
}

/** Deterministic bytes: smooth gradients plus noise, so interpolation weights matter. */
export function testPattern(width: number, height: number, channels: number, seed = 1): Uint8Array {
  const out = new Uint8Array(width * height * channels);
  let state = seed >>> 0 || 1;
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++, i++) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        const smooth = ((x * (c + 1) * 7 + y * (3 - c) * 5) >> 2) & 255;
        out[i] = (smooth + (state >>> 27)) & 255;
      }
    }
  }
  return out;
}
