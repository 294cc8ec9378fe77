import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('src/generated', () => {
  let out = '';
  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('is exactly what `npm run proto` generates from proto/', async () => {
    out = await mkdtemp(join(tmpdir(), 'athena-proto-'));
    await run(join(root, 'node_modules/.bin/buf'), ['generate', '--output', out], { cwd: root });
    const fresh = join(out, 'src/generated');
    const committed = join(root, 'src/generated');
    const files = await listFiles(fresh);
    // src/generated/wasm comes from `npm run wasm` (checked in spec/generated/wasm).
    const protoFiles = (await listFiles(committed)).filter((file) => !file.startsWith('wasm/'));
    expect(files).toEqual(protoFiles);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const [a, b] = await Promise.all([
        readFile(join(fresh, file), 'utf8'),
        readFile(join(committed, file), 'utf8'),
      ]);
      expect(b, `${file} differs from a fresh generation: run npm run proto`).toBe(a);
    }
  });
});
