import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, root, runCli, samples, startServe, type Run } from '../support/cli.js';

describe('athena-rx CLI (built binary)', () => {
  let dir: string;
  let served: { child: ChildProcess; address: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'athena-cli-'));
    await copyFile(join(samples, '17-dragonfly-small.jpg'), join(dir, 'good-1.jpg'));
    await copyFile(join(samples, '21-greentock-small.webp'), join(dir, 'good-2.webp'));
    await writeFile(
      join(dir, 'corrupt.jpg'),
      Buffer.from('\xff\xd8\xff\xe0 definitely not a jpeg', 'latin1'),
    );
    served = await startServe(['--token', 'cli-token', '--affiliate', 'acme']);
  }, 60_000);

  afterAll(async () => {
    served?.child.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });

  it('classifies the samples with --local and prints a table row per image (exit 0)', async () => {
    const run = await runCli(['classify', '--local', samples]);
    expect(run.stderr).toContain('5 images: 5 classified, 0 failed');
    expect(run.code).toBe(0);
    const rows = run.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^SOURCE\s+KNOWN HASH\s+TOP LABEL\s+LABELS/);
    expect(rows).toHaveLength(6);
    for (const row of rows.slice(1))
      expect(row).toMatch(/UnknownCSAM|Lakeside|Mountains|Trees|Seashore|Ducks|Goose/);
  });

  it('decodes under a pixel budget with --max-pixels-in-flight and still classifies every image', async () => {
    const run = await runCli([
      'classify',
      '--local',
      '--max-pixels-in-flight',
      '1000000',
      '--format',
      'jsonl',
      samples,
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('5 images: 5 classified, 0 failed');
    expect(run.stdout.trim().split('\n')).toHaveLength(5);
  });

  it('writes JSON lines, and exit code 2 when a corrupt image and a missing file are among good ones', async () => {
    const missing = join(dir, 'missing.png');
    const run = await runCli(['classify', '--local', '--format', 'jsonl', dir, missing]);
    expect(run.code).toBe(2);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map(
        (line) => JSON.parse(line) as { ref: string; ok: boolean; stage?: string; top?: { label: string } },
      );
    expect(lines).toHaveLength(4);
    const byName = (name: string) => lines.find((l) => l.ref.endsWith(name));
    expect(byName('good-1.jpg')).toMatchObject({ ok: true });
    expect(byName('good-2.webp')?.top?.label).toMatch(/^UnknownCSAM-/);
    expect(byName('corrupt.jpg')).toMatchObject({ ok: false, stage: 'decode' });
    expect(byName('missing.png')).toMatchObject({ ok: false, stage: 'read' });
    expect(run.stderr).toContain('2 classified, 2 failed');
    expect(run.stderr).toMatch(/failures by stage: .*decode 1/);
  });

  it('writes CSV to --output', async () => {
    const out = join(dir, 'results.csv');
    const run = await runCli([
      'classify',
      '--local',
      '--format',
      'csv',
      '--output',
      out,
      join(dir, 'good-1.jpg'),
    ]);
    expect(run.code).toBe(0);
    const [header, row, extra] = (await readFile(out, 'utf8')).trim().split('\n');
    expect(header).toMatch(/^source,status,known_match,top_label,top_weight,/);
    expect(row).toMatch(/good-1\.jpg,ok,false,UnknownCSAM-/);
    expect(extra).toBeUndefined();
    expect(run.stdout).toBe('');
  });

  it('talks to a separate server with credentials and affiliate from the environment', async () => {
    const env = { ATHENA_ADDRESS: served.address, ATHENA_TOKEN: 'cli-token', ATHENA_AFFILIATE: 'acme' };
    const run = await runCli(['classify', '--insecure', '--format', 'jsonl', join(dir, 'good-1.jpg')], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout.trim())).toMatchObject({ ok: true });
    expect(run.stderr).not.toContain('cli-token');

    const deployments = await runCli(['deployments', '--insecure', '--format', 'jsonl'], env);
    expect(deployments.code).toBe(0);
    expect(deployments.stdout).toMatch(/"deploymentId":"[^"]+","backlog":\d+/);
  });

  it('fails with exit code 1 and no secret on screen when the token is refused', async () => {
    const env = {
      ATHENA_ADDRESS: served.address,
      ATHENA_TOKEN: 'wrong-secret-token',
      ATHENA_AFFILIATE: 'acme',
    };
    const run = await runCli(['deployments', '--insecure'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('UNAUTHENTICATED');
    expect(run.stderr + run.stdout).not.toContain('wrong-secret-token');
  });

  it('reports a refused affiliate per image (exit 2)', async () => {
    const env = { ATHENA_ADDRESS: served.address, ATHENA_TOKEN: 'cli-token' };
    const run = await runCli(
      ['classify', '--insecure', '--affiliate', 'intruder', '--format', 'jsonl', join(dir, 'good-1.jpg')],
      env,
    );
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout.trim())).toMatchObject({
      ok: false,
      stage: 'classify',
      code: 'AFFILIATE_NOT_PERMITTED',
    });
  });

  it('stops reading on Ctrl-C, lets in-flight images finish and prints the summary (exit 130)', async () => {
    const many = join(dir, 'many');
    await mkdir(many);
    await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        copyFile(join(samples, '10-freshflower.jpg'), join(many, `p${i}.jpg`)),
      ),
    );
    const child = spawn(process.execPath, [bin, 'classify', '--local', '--format', 'jsonl', many], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let interrupted = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!interrupted && stdout.split('\n').length > 3) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const rows = stdout.trim().split('\n');
    expect(code).toBe(130);
    expect(rows.length).toBeGreaterThan(2);
    expect(rows.length).toBeLessThan(400);
    for (const row of rows) expect(JSON.parse(row)).toMatchObject({ ok: true });
    expect(stderr).toMatch(
      new RegExp(`Interrupted: ${rows.length} images: ${rows.length} classified, 0 failed`),
    );
  }, 60_000);

  it('exits 130 on Ctrl-C after some images failed, and names the failures', async () => {
    const mixed = join(dir, 'mixed');
    await mkdir(mixed);
    await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        copyFile(join(samples, '10-freshflower.jpg'), join(mixed, `p${i}.jpg`)),
      ),
    );
    const broken = join(dir, 'corrupt.jpg');
    const child = spawn(
      process.execPath,
      [bin, 'classify', '--local', '--format', 'jsonl', broken, join(dir, 'nothing-here.png'), mixed],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let interrupted = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const lines = stdout.split('\n').filter((l) => l !== '');
      const failures = lines.filter((l) => (JSON.parse(l) as { ok: boolean }).ok === false).length;
      if (!interrupted && failures === 2 && lines.length > 3) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(timer);
    expect(interrupted).toBe(true);
    expect(code).toBe(130);
    expect(stderr).toMatch(/Interrupted: \d+ images: \d+ classified, 2 failed, \d+ skipped/);
    expect(stderr).toMatch(/failures by stage: (decode 1, read 1|read 1, decode 1)/);
  }, 60_000);

  it('classifies one image with ClassifySingle', async () => {
    const run = await runCli(['classify-one', '--local', '--format', 'jsonl', join(dir, 'good-2.webp')]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout.trim())).toMatchObject({ ok: true });
  });

  it('refuses bad arguments with exit code 1', async () => {
    expect((await runCli(['classify', '--local', '--batch-size', '0', samples])).code).toBe(1);
    const budget = await runCli(['classify', '--local', '--max-pixels-in-flight', '0', samples]);
    expect(budget.code).toBe(1);
    expect(budget.stderr).toContain('--max-pixels-in-flight');
    const noAffiliate = await runCli(['classify', '--address', served.address, '--insecure', samples]);
    expect(noAffiliate.code).toBe(1);
    expect(noAffiliate.stderr).toContain('affiliate');
  });

  it("runs the README's main job", async () => {
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    expect(readme).toMatch(/npm ci && npm start/);
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      scripts: { start: string };
    };
    const job = pkg.scripts.start.replace(/^npm run build && /, '').split(' ');
    expect(job[0]).toBe('node');
    const run = await new Promise<Run>((resolve) => {
      execFile(process.execPath, job.slice(1), { cwd: root, timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? 1 : 0, stdout, stderr }),
      );
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('5 images: 5 classified, 0 failed');
  });
});
