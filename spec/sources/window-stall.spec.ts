import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = resolve(import.meta.dirname, '..', '..');
const FILES = 40; // more than the default window of 32

/**
 * The sample of docs/flow-control.md, in a process of its own: hash every file of a directory and
 * print one line per value, with or without `releaseLeases()`. Stall reports go to stderr.
 */
const script = (release: boolean): string => `
import { hashImage, releaseLeases } from ${JSON.stringify(pathToFileURL(join(repoRoot, 'src/operators/index.ts')).href)};
import { fromDirectory } from ${JSON.stringify(pathToFileURL(join(repoRoot, 'src/sources/index.ts')).href)};

const events = { next: (e) => process.stderr.write('STALL ' + JSON.stringify({ held: e.held, window: e.window, stalledMs: e.stalledMs, message: e.message }) + '\\n') };
fromDirectory(process.argv[2], { windowStallWarnMs: 200, events })
  .pipe(hashImage(), ${release ? 'releaseLeases()' : '(values) => values'})
  .subscribe({
    next: (value) => process.stdout.write((value.kind === 'image' ? value.ref : 'failed ' + value.ref) + '\\n'),
    complete: () => process.stdout.write('complete\\n'),
  });
`;

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(file: string, images: string): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', file, images], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

/** Resolves when `check` holds or the process exits, at the latest after `ms`. */
async function until(r: Run, check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let exited = false;
  void r.exit.then(() => (exited = true));
  while (!check() && !exited && Date.now() < deadline) await new Promise((done) => setTimeout(done, 50));
}

describe('a pipeline without releaseLeases() (a real process)', () => {
  let dir: string;
  let images: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'athena-rx-stall-'));
    images = join(dir, 'images');
    await mkdir(images);
    for (let i = 0; i < FILES; i += 1) await writeFile(join(images, `f${i}.png`), Buffer.from([1, 2, 3, i]));
    await writeFile(join(dir, 'held.mts'), script(false));
    await writeFile(join(dir, 'released.mts'), script(true));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stays alive after a window of values and reports the stall, instead of exiting with 0', async () => {
    const r = run(join(dir, 'held.mts'), images);
    try {
      await until(r, () => r.stderr().includes('STALL '), 60_000);
      expect(r.child.exitCode, r.stderr().slice(-2000)).toBeNull();
      const lines = r.stdout().trim().split('\n');
      expect(lines).toHaveLength(32);
      expect(lines).not.toContain('complete');
      const report = JSON.parse(
        r
          .stderr()
          .slice(r.stderr().indexOf('STALL ') + 6)
          .split('\n')[0]!,
      ) as {
        held: number;
        window: number;
        stalledMs: number;
        message: string;
      };
      expect(report).toMatchObject({ held: 32, window: 32 });
      expect(report.stalledMs).toBeGreaterThanOrEqual(200);
      expect(report.message).toContain('releaseLeases()');
    } finally {
      r.child.kill('SIGKILL');
    }
    await expect(r.exit).resolves.toEqual({ code: null, signal: 'SIGKILL' });
  }, 90_000);

  it('with releaseLeases(), reads every file, completes and exits 0 with no timer left', async () => {
    const r = run(join(dir, 'released.mts'), images);
    try {
      await until(r, () => false, 60_000);
      expect(r.child.exitCode, r.stderr().slice(-2000)).toBe(0);
      const lines = r.stdout().trim().split('\n');
      expect(lines).toHaveLength(FILES + 1);
      expect(lines.at(-1)).toBe('complete');
      expect(r.stderr()).not.toContain('STALL');
    } finally {
      r.child.kill('SIGKILL');
    }
  }, 90_000);
});
