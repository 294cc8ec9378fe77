import { describe, expect, it } from 'vitest';
import { classifyBgr } from '../../src/testing/classifier.js';
import { BENIGN_LABELS, ENTROPY_LABEL, PCSAM_LABEL } from '../../src/testing/labels.js';
import { FOREST_GREEN, rawBgr, SKY_BLUE } from './helpers.js';

const weights = (bgr: Uint8Array) => Object.fromEntries(classifyBgr(bgr).map((l) => [l.label, l.weight]));

function noise(seed: number): Buffer {
  const out = Buffer.alloc(448 * 448 * 3);
  let s = seed;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

describe('classifyBgr', () => {
  it('gives six category weights summing to 1, then Entropy and PCSAM', () => {
    const result = classifyBgr(noise(1));
    expect(result.map((l) => l.label)).toEqual([...BENIGN_LABELS, ENTROPY_LABEL, PCSAM_LABEL]);
    const sum = result.slice(0, 6).reduce((a, l) => a + l.weight, 0);
    expect(sum).toBeCloseTo(1, 10);
    for (const l of result.slice(0, 6)) expect(l.weight).toBeGreaterThan(0);
  });

  it('is deterministic: the same pixels give the same weights', () => {
    expect(classifyBgr(noise(5))).toEqual(classifyBgr(Buffer.from(noise(5))));
    expect(classifyBgr(noise(5))).not.toEqual(classifyBgr(noise(6)));
  });

  it('tells a sky-blue image from a forest-green one', () => {
    const sky = weights(rawBgr(SKY_BLUE));
    const forest = weights(rawBgr(FOREST_GREEN));
    expect(forest['UnknownCSAM-Trees']).toBeGreaterThan(0.3);
    expect(forest['UnknownCSAM-Trees']! - sky['UnknownCSAM-Trees']!).toBeGreaterThan(0.2);
    expect(sky['UnknownCSAM-Lakeside']! + sky['UnknownCSAM-Seashore']!).toBeGreaterThan(
      forest['UnknownCSAM-Lakeside']! + forest['UnknownCSAM-Seashore']! + 0.2,
    );
  });

  it('keeps Entropy within 0..ln 6 and PCSAM small', () => {
    for (const bgr of [
      rawBgr({ r: 0, g: 0, b: 0 }),
      rawBgr({ r: 255, g: 255, b: 255 }),
      noise(9),
      rawBgr(SKY_BLUE),
    ]) {
      const w = weights(bgr);
      expect(w[ENTROPY_LABEL]).toBeGreaterThan(0);
      expect(w[ENTROPY_LABEL]).toBeLessThanOrEqual(Math.log(6) + 1e-9);
      expect(w[PCSAM_LABEL]).toBeGreaterThanOrEqual(0.01);
      expect(w[PCSAM_LABEL]).toBeLessThanOrEqual(0.1);
    }
    // Texture raises PCSAM above a flat image of similar colour.
    expect(weights(noise(9))[PCSAM_LABEL]).toBeGreaterThan(
      weights(rawBgr({ r: 128, g: 128, b: 128 }))[PCSAM_LABEL]!,
    );
  });

  it('refuses a buffer shorter than the size given', () => {
    expect(() => classifyBgr(new Uint8Array(10))).toThrow(RangeError);
  });
});
