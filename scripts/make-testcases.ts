/**
 * Writes the shipped test-case set `testcases/benign/`: a few generated PNGs and their
 * `expected_outputs.json`, the weights recorded from the embedded server's deterministic benign
 * classifier after the reference preprocessing. Run with `npx tsx scripts/make-testcases.ts`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { prepareImage } from '../src/imaging/prepare.js';
import { classifyBgr } from '../src/testing/classifier.js';
import { BENIGN_LABELS, ENTROPY_LABEL, PCSAM_LABEL } from '../src/testing/labels.js';

const dir = new URL('../testcases/benign/', import.meta.url).pathname;

/** An RGB image of `width` x `height` from a per-pixel colour. */
function image(width: number, height: number, rgb: (x: number, y: number) => [number, number, number]) {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw.set(rgb(x, y), (y * width + x) * 3);
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

const images: [string, Promise<Buffer>][] = [
  ['sky-gradient-448.png', image(448, 448, (x, y) => [90 + (x >> 3), 150 + (y >> 4), 235])],
  ['forest-stripes-640x480.png', image(640, 480, (x, y) => [34 + ((x >> 4) % 2) * 60, 139, 34 + (y % 50)])],
  [
    'grey-rings-300x500.png',
    image(300, 500, (x, y) => {
      const v = Math.round(128 + 127 * Math.sin(Math.hypot(x - 150, y - 250) / 9));
      return [v, v, v];
    }),
  ],
  [
    'sand-and-sea-1000x750.png',
    image(1000, 750, (x, y) => (y < 375 + 40 * Math.sin(x / 60) ? [40, 110, 200] : [220, 200, 150])),
  ],
];

const labels = [...BENIGN_LABELS, ENTROPY_LABEL, PCSAM_LABEL];
await mkdir(join(dir, 'images'), { recursive: true });
const expected: [string, number[]][] = [];
for (const [name, bytes] of images) {
  const relpath = `images/${name}`;
  const png = await bytes;
  await writeFile(join(dir, relpath), png);
  const weights = new Map(classifyBgr((await prepareImage(png)).data).map((l) => [l.label, l.weight]));
  // The wire carries float32 weights: record what a client receives.
  expected.push([relpath, labels.map((label) => Math.fround(weights.get(label) ?? Number.NaN))]);
}
const json = { classification_labels: labels, images: expected };
await writeFile(join(dir, 'expected_outputs.json'), `${JSON.stringify(json, null, 2)}\n`);
