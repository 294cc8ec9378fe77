import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../../..', import.meta.url).pathname;

describe('src/generated/wasm/bilinear.ts', () => {
  let out = '';
  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('is exactly what `npm run wasm` compiles from wasm/bilinear.ts', async () => {
    out = await mkdtemp(join(tmpdir(), 'athena-wasm-'));
    const fresh = join(out, 'bilinear.ts');
    await run(process.execPath, [join(root, 'scripts/build-wasm.mjs'), '--out', fresh], { cwd: root });
    const [a, b] = await Promise.all([
      readFile(fresh, 'utf8'),
      readFile(join(root, 'src/generated/wasm/bilinear.ts'), 'utf8'),
    ]);
    expect(a).toMatch(/const BASE64 = \[\n {2}'AGFzbQ/); // a WebAssembly module: "\0asm"
    expect(b, 'differs from a fresh compilation: run npm run wasm').toBe(a);
  }, 60_000);
});
