import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countInputs } from '../../src/cli/count-inputs.js';
import { parseInputList, resolveInputs, sortInputs } from '../../src/cli/input-list.js';

describe('CLI inputs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'athena-cli-inputs-'));
    await mkdir(join(dir, 'sub'));
    await Promise.all([
      writeFile(join(dir, 'a.jpg'), 'x'),
      writeFile(join(dir, 'b.PNG'), 'x'),
      writeFile(join(dir, 'notes.txt'), 'x'),
      writeFile(join(dir, 'sub', 'c.webp'), 'x'),
    ]);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('parses a list: one entry a line, blank lines and comments skipped, CRLF accepted', () => {
    expect(parseInputList('a.jpg\r\n\n  # note\n https://x.test/b.png \n')).toEqual([
      'a.jpg',
      'https://x.test/b.png',
    ]);
  });

  it('replaces - by standard input (read once) and appends --from-file', async () => {
    const list = join(dir, 'list.txt');
    await writeFile(list, 'from-file.jpg\n');
    const stdin = Readable.from(['one.jpg\ntw', 'o.jpg\n']);
    await expect(resolveInputs(['x.jpg', '-', '-'], list, stdin)).resolves.toEqual([
      'x.jpg',
      'one.jpg',
      'two.jpg',
      'from-file.jpg',
    ]);
    await expect(resolveInputs([], join(dir, 'missing.txt'), Readable.from([]))).rejects.toMatchObject({
      code: 'READ_FAILED',
    });
  });

  it('counts files, URLs and the images a directory walk will give, before reading any', async () => {
    const sorted = await sortInputs([dir, 'https://x.test/a.jpg', join(dir, 'gone.jpg')]);
    expect(sorted).toEqual({ urls: ['https://x.test/a.jpg'], dirs: [dir], files: [join(dir, 'gone.jpg')] });
    const signal = new AbortController().signal;
    await expect(countInputs(sorted, false, signal)).resolves.toBe(4);
    await expect(countInputs(sorted, true, signal)).resolves.toBe(5);
    await expect(countInputs(sorted, true, signal, 3)).resolves.toBeUndefined();
    await expect(countInputs(sorted, true, AbortSignal.abort())).resolves.toBeUndefined();
  });
});
