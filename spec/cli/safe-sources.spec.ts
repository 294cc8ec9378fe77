import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, samples } from '../support/cli.js';

interface Row {
  ref: string;
  ok: boolean;
  stage?: string;
  code?: string;
  message?: string;
}

const rowsOf = (stdout: string): Row[] =>
  stdout
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Row);

describe('athena-rx classify: safe sources (built binary)', () => {
  let dir: string;
  let good: string[];
  let fifos: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'athena-cli-safe-'));
    good = [join(dir, 'good-1.jpg'), join(dir, 'good-2.webp')];
    await copyFile(join(samples, '17-dragonfly-small.jpg'), good[0]!);
    await copyFile(join(samples, '21-greentock-small.webp'), good[1]!);
    fifos = Array.from({ length: 5 }, (_, i) => join(dir, `pipe-${i}.jpg`));
    for (const fifo of fifos) {
      const made = spawnSync('mkfifo', [fifo], { timeout: 10_000 });
      if (made.status !== 0) throw new Error(`mkfifo failed: ${String(made.stderr)}`);
    }
  });

  afterAll(async () => {
    for (const fifo of fifos ?? []) {
      try {
        // Sets free a reader stuck on the pipe, should there be one.
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // ENXIO: no reader, as it should be.
      }
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('classifies the good files among FIFOs, fails each FIFO at read, ends the run and exits', async () => {
    const run = await runCli(['classify', '--local', '--format', 'jsonl', good[0]!, ...fifos, good[1]!]);
    // runCli kills the process after 60 s: a run that never ended would show here as no exit code.
    expect(run.code).toBe(2);
    const rows = rowsOf(run.stdout);
    expect(rows.filter((r) => r.ok).map((r) => r.ref)).toEqual(expect.arrayContaining(good));
    expect(rows.filter((r) => r.ok)).toHaveLength(2);
    const failed = rows.filter((r) => !r.ok);
    expect(failed.map((r) => r.ref).sort()).toEqual([...fifos].sort());
    for (const row of failed) {
      expect(row).toMatchObject({ stage: 'read', code: 'READ_FAILED' });
      expect(row.message).toContain('FIFO');
    }
    expect(run.stderr).toContain('2 classified, 5 failed');
  });

  it('--max-bytes fails larger files with FILE_TOO_LARGE at stage read, and lets smaller ones through', async () => {
    // good-1.jpg has 68,355 bytes and good-2.webp 13,242.
    const run = await runCli(['classify', '--local', '--format', 'jsonl', '--max-bytes', '20k', ...good]);
    expect(run.code).toBe(2);
    const rows = rowsOf(run.stdout);
    expect(rows.find((r) => r.ref === good[0])).toMatchObject({
      ok: false,
      stage: 'read',
      code: 'FILE_TOO_LARGE',
      message: `${good[0]} has 68355 bytes, more than the limit of 20480 bytes`,
    });
    expect(rows.find((r) => r.ref === good[1])).toMatchObject({ ok: true });
  });

  it('refuses a --max-bytes that is not a size', async () => {
    const run = await runCli(['classify', '--local', '--max-bytes', '12x', good[0]!]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('expected a size in bytes');
    expect(run.stdout).toBe('');
  });
});
