import { BENIGN_LABELS, ENTROPY_LABEL, MODEL_SIZE, PCSAM_LABEL } from './labels.js';

/** One label and its weight, as the server puts it on the wire. */
export interface LabelWeight {
  readonly label: string;
  readonly weight: number;
}

/** Colour and texture features of an image, each in 0..1. */
interface Features {
  readonly b: number;
  readonly g: number;
  readonly r: number;
  readonly brightness: number;
  readonly saturation: number;
  readonly edges: number;
}

/** Sample every STEP-th pixel in both directions: 112 x 112 samples for a model input. */
const STEP = 4;
/** Softmax sharpness: large enough that different scenes get visibly different weights. */
const SHARPNESS = 4;

/**
 * The benign test model of the embedded server: deterministic weights from pixel content.
 *
 * A softmax over a few features (mean B, G, R, brightness, saturation, edge energy, computed on a
 * 1-in-16 subsample) gives the six {@link BENIGN_LABELS} weights summing to 1; `UnknownCSAM-Entropy`
 * is their natural-log entropy (0..ln 6, so it may exceed 1) and `UnknownCSAM-PCSAM` a small value
 * in 0.01..0.1. The same pixels always give the same weights; blue scenes lean to Lakeside and
 * Seashore, green ones to Trees. Costs well under a millisecond per 448 x 448 image.
 *
 * @param bgr - Pixels as uint8 B,G,R triples, row-major.
 * @param width - Image width in pixels (default 448).
 * @param height - Image height in pixels (default 448).
 * @returns Eight labels: the six categories, then Entropy, then PCSAM.
 */
export function classifyBgr(bgr: Uint8Array, width = MODEL_SIZE, height = MODEL_SIZE): LabelWeight[] {
  if (bgr.length < width * height * 3) {
    throw new RangeError(`classifyBgr needs ${width * height * 3} bytes, got ${bgr.length}`);
  }
  const f = features(bgr, width, height);
  const logits = [
    1.6 * f.b + 0.6 * f.g - 1.2 * f.r + 0.3 * f.saturation - 0.5 * f.edges,
    1.2 * (1 - f.saturation) + 1.5 * f.edges + 0.5 * (1 - f.brightness) - 0.3,
    2.0 * f.g - 0.9 * f.r - 0.9 * f.b + 0.8 * f.edges,
    1.0 * f.b + 0.8 * f.r + 0.6 * f.brightness - 0.7 * f.g,
    1.2 * f.r + 1.2 * f.g - 1.5 * f.b + 0.8 * f.saturation - 0.4,
    1.5 * f.brightness - 1.2 * f.saturation + 0.1,
  ].map((x) => x * SHARPNESS);
  const max = Math.max(...logits);
  const exps = logits.map((x) => Math.exp(x - max));
  const sum = exps.reduce((a, x) => a + x, 0);
  const weights = exps.map((x) => x / sum);
  const entropy = weights.reduce((a, p) => (p > 0 ? a - p * Math.log(p) : a), 0);
  const pcsam = 0.01 + 0.09 * Math.min(1, 0.6 * f.edges + 0.4 * Math.abs(f.r - f.g));
  return [
    ...BENIGN_LABELS.map((label, i) => ({ label, weight: weights[i] ?? 0 })),
    { label: ENTROPY_LABEL, weight: entropy },
    { label: PCSAM_LABEL, weight: pcsam },
  ];
}

function features(bgr: Uint8Array, width: number, height: number): Features {
  let b = 0;
  let g = 0;
  let r = 0;
  let sat = 0;
  let edges = 0;
  let n = 0;
  const row = width * 3;
  for (let y = 0; y < height; y += STEP) {
    for (let x = 0; x < width; x += STEP) {
      const i = y * row + x * 3;
      const pb = bgr[i] ?? 0;
      const pg = bgr[i + 1] ?? 0;
      const pr = bgr[i + 2] ?? 0;
      b += pb;
      g += pg;
      r += pr;
      const hi = Math.max(pb, pg, pr);
      if (hi > 0) sat += (hi - Math.min(pb, pg, pr)) / hi;
      const luma = luminance(bgr, i);
      const right = x + STEP < width ? luminance(bgr, i + STEP * 3) : luma;
      const below = y + STEP < height ? luminance(bgr, i + STEP * row) : luma;
      edges += Math.abs(luma - right) + Math.abs(luma - below);
      n++;
    }
  }
  const mb = b / n / 255;
  const mg = g / n / 255;
  const mr = r / n / 255;
  return {
    b: mb,
    g: mg,
    r: mr,
    brightness: (mb + mg + mr) / 3,
    saturation: sat / n,
    edges: Math.min(1, (edges / n / 255) * 2),
  };
}

function luminance(bgr: Uint8Array, i: number): number {
  return 0.114 * (bgr[i] ?? 0) + 0.587 * (bgr[i + 1] ?? 0) + 0.299 * (bgr[i + 2] ?? 0);
}
