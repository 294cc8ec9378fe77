/**
 * The published test-case format (`expected_outputs.json`): reading and checking it, and comparing
 * one outcome with the expected weights of its image. Pure apart from reading the file.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { AthenaError } from '../errors.js';
import type { Outcome } from '../model.js';

/** One image of a test-case set and the weight expected for each label, in label order. */
export interface TestCaseImage {
  /** As written in the file, relative to the set's folder. */
  readonly relpath: string;
  /** The file's path: the set's folder joined with `relpath`. */
  readonly path: string;
  readonly weights: readonly number[];
}

export interface TestCaseSet {
  readonly labels: readonly string[];
  readonly images: readonly TestCaseImage[];
}

/** A label whose weight is off by more than the tolerance, or missing (`actual` undefined). */
export interface LabelMismatch {
  readonly label: string;
  readonly expected: number;
  readonly actual: number | undefined;
}

/** Reads and checks `dir/expected_outputs.json`; throws `INVALID_INPUT` naming what is wrong. */
export async function readTestCaseSet(dir: string): Promise<TestCaseSet> {
  const file = join(dir, 'expected_outputs.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new AthenaError('INVALID_INPUT', `cannot read ${file}`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AthenaError('INVALID_INPUT', `${file} is not JSON`, { cause: error });
  }
  const bad = (what: string): AthenaError => new AthenaError('INVALID_INPUT', `${file}: ${what}`);
  const { classification_labels: labels, images } = (value ?? {}) as Record<string, unknown>;
  if (!Array.isArray(labels) || labels.length === 0 || !labels.every((l) => typeof l === 'string'))
    throw bad('classification_labels must be a non-empty array of strings');
  if (!Array.isArray(images) || images.length === 0) throw bad('images must be a non-empty array');
  return {
    labels,
    images: images.map((entry: unknown, i) => {
      const [relpath, weights] = Array.isArray(entry) ? (entry as unknown[]) : [];
      if (typeof relpath !== 'string' || relpath.length === 0)
        throw bad(`images[${i}] must be [relative path, [weights...]]`);
      if (isAbsolute(relpath) || normalize(relpath).split(sep).includes('..'))
        throw bad(`images[${i}]: ${relpath} must stay inside the folder`);
      if (
        !Array.isArray(weights) ||
        weights.length !== labels.length ||
        !weights.every((w) => typeof w === 'number' && Number.isFinite(w))
      )
        throw bad(`images[${i}] (${relpath}) must have ${labels.length} numeric weights, one per label`);
      return { relpath, path: join(dir, relpath), weights: weights as number[] };
    }),
  };
}

/**
 * The labels of `outcome` that differ from `image`'s expected weights by more than `tolerance`
 * (a missing label counts as a mismatch). A failed outcome is reported by the caller.
 */
export function compareOutcome(
  outcome: Extract<Outcome, { ok: true }>,
  image: TestCaseImage,
  labels: readonly string[],
  tolerance: number,
): LabelMismatch[] {
  const mismatches: LabelMismatch[] = [];
  labels.forEach((label, i) => {
    const expected = image.weights[i]!;
    const actual = outcome.labels[label];
    if (actual === undefined || !(Math.abs(actual - expected) <= tolerance))
      mismatches.push({ label, expected, actual });
  });
  return mismatches;
}
