import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECTIONS } from '../../bench/report.js';

const repoRoot = resolve(import.meta.dirname, '..', '..');

/** Runs the benchmark harness at its smallest size in a child process, as `npm run bench` would. */
function runHarness(out: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'bench', 'run.ts'), '--smoke', '--server', 'process', '--out', out],
      { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', fail);
    child.once('exit', (code) => done({ code, stderr }));
  });
}

describe('bench/run.ts --smoke', () => {
  let dir: string;
  let result: { code: number | null; stderr: string };
  let report: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'athena-rx-bench-'));
    const out = join(dir, 'performance.md');
    result = await runHarness(out);
    report = await readFile(out, 'utf8').catch(() => '');
  }, 180_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('completes and writes a report marked as a smoke run', () => {
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    expect(report.split('\n')[0]).toMatch(/^# Performance \(smoke run/);
  });

  it('writes every section, in order', () => {
    const positions = SECTIONS.map((heading) => report.indexOf(`\n${heading}\n`));
    for (const [i, heading] of SECTIONS.entries()) expect(positions[i], heading).toBeGreaterThan(0);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('runs every step without a failure and judges every target with a figure', () => {
    expect(report).not.toMatch(/This step failed/);
    const targets = report.slice(report.indexOf('## Targets'), report.indexOf('## Machine and settings'));
    const rows = targets
      .split('\n')
      .filter((line) => /^\| .* \| \*\*(MET|NOT MET|NOT CHECKED|INFO)\*\* \|/.test(line));
    expect(rows.length).toBeGreaterThanOrEqual(6);
    for (const row of rows) expect(row.split('|')[3]?.trim().length).toBeGreaterThan(0);
  });

  it('runs the smoke fault scenarios against server processes, every input with exactly one outcome', () => {
    const faults = report.slice(report.indexOf('\n## 8. Faults\n'));
    const row = (name: string): string[] =>
      (faults.split('\n').find((line) => line.startsWith(`| ${name} |`)) ?? '')
        .split('|')
        .map((c) => c.trim());
    for (const name of ['clean', 'restart-2s', 'global-errors']) {
      const cells = row(name);
      expect(cells[1], name).toBe(name);
      expect(cells.slice(5, 7), `${name}: duplicated, lost`).toEqual(['**0**', '**0**']);
      expect(cells[13], name).toBe('completed');
    }
    expect(row('clean')[3]).toBe('48');
    expect(row('global-errors')[4]).toBe('48 classify');
    expect(Number(row('restart-2s')[7])).toBeGreaterThan(0);
    expect(faults).toMatch(
      /\| restart-2s: exactly one outcome per input, none lost, the run completes \| \*\*MET\*\* \|/,
    );
  });

  it('measures telemetry off, per stream and per image, the spans growing with each', () => {
    const section = report.slice(report.indexOf('\n## 9. Telemetry cost\n'));
    const cells = (variant: string): string[] =>
      (section.split('\n').find((line) => line.startsWith(`| 1 | ${variant} |`)) ?? '')
        .split('|')
        .map((c) => c.trim());
    const spans = (variant: string) => Number(cells(variant)[7]);
    expect(spans('off')).toBe(0);
    // A stream span per connection; with traceImages six more per image (8 images in a smoke run).
    expect(spans('stream')).toBeGreaterThan(0);
    expect(spans('image') - spans('stream')).toBeGreaterThanOrEqual(6 * 8);
    expect(Number(cells('stream')[8])).toBeGreaterThan(0);
    for (const variant of ['off', 'stream', 'image']) expect(cells(variant)[9], variant).toBe('0');
    expect(report).toMatch(
      /\| per-stream telemetry costs under 2% \(client CPU per image of the whole pipeline\) \| \*\*(MET|NOT MET)\*\* \|/,
    );
  });

  it('records the load average and the machine', () => {
    expect(report).toMatch(
      /Load average \(1, 5, 15 min\) at start: [\d.]+ [\d.]+ [\d.]+; at the end: [\d.]+/,
    );
    expect(report).toMatch(/\| Node\.js \| v\d+/);
    expect(report).toMatch(/\| UV_THREADPOOL_SIZE \| /);
  });
});
