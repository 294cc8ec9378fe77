import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, renderScreen, runCli, runInTerminal, samples } from '../support/cli.js';

const ROW = /^\S+\/p\d+\.jpg\s+Ducks 0\.949\s+Lakeside=\S+ .* KnownCSAM-SHA1=0\.000$/;

describe('athena-rx classify on a terminal and in pipes (built binary)', () => {
  let dir: string;
  let many: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'athena-cli-tty-'));
    many = join(dir, 'many');
    await mkdir(many);
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        copyFile(join(samples, '10-freshflower.jpg'), join(many, `p${i}.jpg`)),
      ),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps rows intact when results and the bar share one terminal, and ends with the summary', async () => {
    const run = await runInTerminal(['classify', '--local', many], { columns: 160 });
    expect(run.code).toBe(0);
    // The bar was drawn while rows were written: the case where they used to overwrite each other.
    const firstRowEnd = run.raw.indexOf('KnownCSAM-SHA1');
    const lastRowEnd = run.raw.lastIndexOf('KnownCSAM-SHA1');
    const barBetweenRows = run.raw.indexOf('classifying [', firstRowEnd);
    expect(barBetweenRows).toBeGreaterThan(firstRowEnd);
    expect(barBetweenRows).toBeLessThan(lastRowEnd);
    const screen = renderScreen(run.raw);
    expect(screen[0]).toMatch(/^SOURCE\s+KNOWN HASH\s+TOP LABEL\s+LABELS$/);
    const rows = screen.slice(1, 61);
    for (const row of rows) expect(row).toMatch(ROW);
    expect(screen.slice(61)).toEqual([
      '60 images: 60 classified, 0 failed',
      expect.stringMatching(/^time \d+\.\d s, \d+\.\d images\/s$/),
      'top labels: UnknownCSAM-Ducks 60',
    ]);
    expect(screen.join('\n')).not.toContain('classifying');
  }, 90_000);

  it('draws no bar with --no-progress on a terminal', async () => {
    const run = await runInTerminal([
      'classify',
      '--local',
      '--no-progress',
      join(samples, '10-freshflower.jpg'),
    ]);
    expect(run.code).toBe(0);
    expect(run.raw).not.toContain('classifying');
    expect(run.raw).not.toContain('\x1b[2K');
  }, 60_000);

  it('prints no bar to a pipe unless --progress asks for it', async () => {
    const plain = await runCli(['classify', '--local', '--format', 'jsonl', many]);
    expect(plain.code).toBe(0);
    expect(plain.stderr).not.toContain('classifying');
    expect(plain.stderr).not.toContain('\r');
    const asked = await runCli(['classify', '--local', '--progress', '--format', 'jsonl', many]);
    expect(asked.code).toBe(0);
    // eslint-disable-next-line no-control-regex -- terminal escape sequences are what is checked
    expect(asked.stderr).toMatch(/\r\x1b\[2Kclassifying \[[#-]{20}\]\s+\d+% \d+\/60/);
    expect(asked.stdout.trim().split('\n')).toHaveLength(60);
  }, 90_000);

  it('ends quietly with exit code 0 when the reader of stdout goes away (| head -1)', async () => {
    const child = spawn(
      process.execPath,
      [bin, 'classify', '--local', '--format', 'jsonl', many, many, many],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    let lines = 0;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      lines += chunk.toString().split('\n').length - 1;
      if (lines >= 1) child.stdout.destroy();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.once('exit', (c, s) => resolve([c, s])),
    );
    clearTimeout(timer);
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|Error|at /);
    // The work was cancelled: no summary of 180 images.
    expect(stderr).not.toContain('180 images');
  }, 90_000);

  it('also ends quietly in a shell pipeline on a terminal', async () => {
    const run = await runInTerminal(['classify', '--local', '--no-progress', many, many], {
      pipeTo: 'head -1',
    });
    const screen = renderScreen(run.raw);
    expect(screen).toEqual([expect.stringMatching(/^SOURCE\s+KNOWN HASH/), 'exit 0']);
  }, 60_000);

  it('reads inputs from --from-file and from standard input (-)', async () => {
    const list = join(dir, 'list.txt');
    const one = join(samples, '17-dragonfly-small.jpg');
    const two = join(samples, '21-greentock-small.webp');
    await writeFile(list, `# photos\n${one}\n\n${two}\n`);
    const fromFile = await runCli(['classify', '--local', '--format', 'jsonl', '--from-file', list]);
    expect(fromFile.code).toBe(0);
    const refs = (text: string) =>
      text
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { ref: string }).ref);
    expect(refs(fromFile.stdout).sort()).toEqual([one, two].sort());

    const fromStdin = await runCli(['classify', '--local', '--format', 'jsonl', '-', one], {}, `${two}\n`);
    expect(fromStdin.code).toBe(0);
    expect(refs(fromStdin.stdout).sort()).toEqual([one, two].sort());

    const viaFlag = await runCli(
      ['classify', '--local', '--format', 'jsonl', '--from-file', '-'],
      {},
      `${one}\n`,
    );
    expect(refs(viaFlag.stdout)).toEqual([one]);
  }, 90_000);
});
