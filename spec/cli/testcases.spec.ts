import { type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTestCaseSet } from '../../src/cli/testcase-set.js';
import { root, runCli, startServe } from '../support/cli.js';

const shipped = join(root, 'testcases/benign');
let child: ChildProcess;
let address = '';
let dir = '';

beforeAll(async () => {
  ({ child, address } = await startServe(['--affiliate', 'acme']));
  dir = await mkdtemp(join(tmpdir(), 'athena-testcases-'));
}, 30_000);
afterAll(async () => {
  child.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
});

const against = (set: string, ...more: string[]) =>
  runCli(['testcases', set, '--address', address, '--insecure', '--affiliate', 'acme', ...more]);

interface Expected {
  classification_labels: string[];
  images: [string, number[]][];
}

/** A copy of the shipped set with one expected weight moved by `delta`. */
async function altered(name: string, image: number, label: number, delta: number): Promise<string> {
  const copy = join(dir, name);
  await cp(shipped, copy, { recursive: true });
  const file = join(copy, 'expected_outputs.json');
  const json = JSON.parse(await readFile(file, 'utf8')) as Expected;
  json.images[image]![1][label]! += delta;
  await writeFile(file, JSON.stringify(json));
  return copy;
}

describe('athena-rx testcases against serve', () => {
  it('passes the shipped set through Classify and ClassifySingle, with and without Brotli', async () => {
    const set = await readTestCaseSet(shipped);
    expect(set.images.length).toBeGreaterThanOrEqual(3);
    const run = await against(shipped, '--single');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const rows = run.stdout.trim().split('\n');
    const checks = set.images.length * 4;
    expect(rows.filter((r) => r.startsWith('PASS '))).toHaveLength(checks);
    for (const call of ['classify', 'single'])
      for (const encoding of ['uncompressed', 'brotli'])
        for (const image of set.images)
          expect(rows).toContainEqual(
            expect.stringMatching(new RegExp(`^PASS +${call} +${encoding} +${image.relpath}$`)),
          );
    expect(rows.at(-1)).toBe(`${checks} of ${checks} checks passed (tolerance 0.0001)`);
  }, 60_000);

  it('fails, naming the image and the label, when one expected weight is changed', async () => {
    const set = await readTestCaseSet(shipped);
    const copy = await altered('changed', 1, 2, 0.01);
    const image = set.images[1]!.relpath;
    const label = set.labels[2]!;

    const table = await against(copy);
    expect(table.code).toBe(2);
    const failures = table.stdout.split('\n').filter((r) => r.startsWith('FAIL '));
    expect(failures).toHaveLength(2); // uncompressed and Brotli
    for (const row of failures) {
      expect(row).toContain(image);
      expect(row).toMatch(new RegExp(`${label} expected [0-9.e-]+, got [0-9.e-]+ \\(off by 1\\.00e-2\\)`));
    }

    const jsonl = await against(copy, '--format', 'jsonl');
    expect(jsonl.code).toBe(2);
    const reports = jsonl.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { image: string; ok: boolean; mismatches: { label: string }[] });
    expect(reports).toHaveLength(set.images.length * 2);
    const bad = reports.filter((r) => !r.ok);
    expect(bad.map((r) => [r.image, r.mismatches.map((m) => m.label)])).toEqual([
      [image, [label]],
      [image, [label]],
    ]);
  }, 60_000);

  it('applies --tolerance: a change of 5e-5 passes at the default 1e-4 and fails at 1e-5', async () => {
    const copy = await altered('nudged', 0, 0, 5e-5);
    expect((await against(copy)).code).toBe(0);
    const strict = await against(copy, '--tolerance', '1e-5');
    expect(strict.code).toBe(2);
    expect(strict.stdout).toMatch(/^FAIL .*images\/sky-gradient-448\.png.*UnknownCSAM-Lakeside/m);
  }, 60_000);
});

describe('reading a test-case set', () => {
  it('refuses malformed files, naming what is wrong', async () => {
    const cases: [unknown, RegExp][] = [
      [{ images: [] }, /classification_labels/],
      [{ classification_labels: ['a'], images: [] }, /images must be a non-empty array/],
      [{ classification_labels: ['a', 'b'], images: [['x.png', [1]]] }, /x\.png.*2 numeric weights/],
      [{ classification_labels: ['a'], images: [['../x.png', [1]]] }, /must stay inside the folder/],
    ];
    for (const [i, [json, message]] of cases.entries()) {
      const set = join(dir, `bad-${i}`);
      await cp(shipped, set, { recursive: true });
      await writeFile(join(set, 'expected_outputs.json'), JSON.stringify(json));
      await expect(readTestCaseSet(set)).rejects.toMatchObject({ code: 'INVALID_INPUT', message });
    }
  });
});
