/**
 * A run killed with SIGKILL at several points and resumed until it finishes: the journal ends with
 * every input exactly once, and the server never received again an image whose outcome the journal
 * held when the process was killed. The server runs in the test process so that it can tell the
 * images it receives apart (each file has its own bytes, so its own MD5).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClassifierServiceService } from '../../src/generated/athena/athena.js';
import type { ClassifyRequest, ClassifyResponse } from '../../src/generated/athena/models.js';
import { createAthenaService, type AthenaService } from '../../src/testing/service.js';
import { bin, runCli } from '../support/cli.js';

const IMAGES = 300;
const KILL_AT = [30, 110, 200];

let dir: string;
let service: AthenaService;
let server: Server;
let address: string;
/** MD5 of every input the server received, with the run it came in. */
const received: { run: number; md5: string }[] = [];
let run = 0;

/** A 12 x 12 binary PPM whose pixels spell out its number: every file has bytes of its own. */
function ppm(n: number): Buffer {
  const pixels = Buffer.alloc(12 * 12 * 3);
  for (let i = 0; i < pixels.length; i += 1) pixels[i] = (n * 37 + i * (1 + (n % 7))) & 0xff;
  pixels.writeUInt16BE(n, 0);
  return Buffer.concat([Buffer.from('P6\n12 12\n255\n'), pixels]);
}

beforeAll(async () => {
  expect(existsSync(bin), 'run `npm run build` first').toBe(true);
  dir = await mkdtemp(join(tmpdir(), 'athena-rx-resume-'));
  for (let n = 0; n < IMAGES; n += 1) await writeFile(join(dir, `img-${n}.ppm`), ppm(n));
  // Slow enough that the kills land mid-run on any machine; outputs still come every few ms.
  service = createAthenaService({ faults: { latencyMs: [5, 15] } });
  const classify = service.implementation.classify;
  server = new Server();
  server.addService(ClassifierServiceService, {
    ...service.implementation,
    classify: (call: ServerDuplexStream<ClassifyRequest, ClassifyResponse>) => {
      call.on('data', (request: ClassifyRequest) => {
        for (const input of request.inputs) {
          const md5 = input.hashes.find((h) => h.type === 1)?.value ?? '';
          received.push({ run, md5 });
        }
      });
      classify(call);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, p) =>
      error ? reject(error) : resolve(p),
    ),
  );
  address = `127.0.0.1:${port}`;
});

afterAll(async () => {
  server?.forceShutdown();
  service?.dispose();
  await rm(dir, { recursive: true, force: true });
});

interface Line {
  ref: string;
  ok: boolean;
  digests?: { md5?: string };
}

/** The whole lines of the journal (a line still being written is left out). */
async function lines(path: string): Promise<Line[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Line);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `classify` into the journal; with `killAt`, SIGKILLs it once the journal holds that many
 * lines. Resolves with the exit code (null when killed) once the process is gone.
 */
async function classify(output: string, resume: boolean, killAt?: number): Promise<number | null> {
  run += 1;
  const args = ['classify', '--address', address, '--insecure', '--affiliate', 'resume-test'];
  args.push(
    '--format',
    'jsonl',
    '--output',
    output,
    '--no-progress',
    '--batch-size',
    '4',
    '--concurrency',
    '2',
  );
  const child = spawn(process.execPath, [bin, ...args, ...(resume ? ['--resume'] : []), dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '' },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  if (killAt !== undefined) {
    // Bounded: 2,000 polls of 10 ms at most.
    for (let i = 0; i < 2_000 && !gone; i += 1) {
      const size = await stat(output).then(
        (s) => s.size,
        () => 0,
      );
      if (size > 0 && (await lines(output)).length >= killAt) {
        child.kill('SIGKILL');
        break;
      }
      await sleep(10);
    }
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
  const code = await exited;
  clearTimeout(timer);
  // Every stream of the killed client is closed before the next run counts its inputs.
  for (let i = 0; i < 500 && service.counters.streamsActive > 0; i += 1) await sleep(10);
  if (code !== null && code !== 0) throw new Error(`classify exited with ${code}: ${stderr}`);
  return code;
}

describe('classify --resume after SIGKILL', () => {
  it('ends with every input exactly once, and never sends again an image recorded before a kill', async () => {
    const output = join(dir, 'results.jsonl');
    /** MD5s the journal held after each kill, by the run that was killed. */
    const doneAfter = new Map<number, Set<string>>();
    let kills = 0;
    for (const [i, killAt] of KILL_AT.entries()) {
      const code = await classify(output, i > 0, killAt);
      if (code === null) kills += 1;
      const recorded = await lines(output);
      doneAfter.set(run, new Set(recorded.map((line) => line.digests?.md5 ?? '')));
      if (code === 0) break;
    }
    // At least two kills landed mid-run, each leaving more done than the one before.
    expect(kills).toBeGreaterThanOrEqual(2);
    let finished = false;
    for (let attempt = 0; attempt < 3 && !finished; attempt += 1) {
      finished = (await classify(output, true)) === 0;
    }
    expect(finished).toBe(true);

    const final = await lines(output);
    const refs = final.map((line) => line.ref).sort();
    const expected = Array.from({ length: IMAGES }, (_, n) => join(dir, `img-${n}.ppm`)).sort();
    expect(refs).toEqual(expected);
    expect(final.every((line) => line.ok)).toBe(true);
    expect(new Set(final.map((line) => line.digests?.md5)).size).toBe(IMAGES);
    expect((await readFile(output, 'utf8')).endsWith('\n')).toBe(true);

    // No image the journal held at a kill reached the server in any later run.
    const resent = received.filter(({ run: r, md5 }) =>
      [...doneAfter].some(([killedRun, done]) => r > killedRun && done.has(md5)),
    );
    expect(resent).toEqual([]);
    // Every image reached the server at least once; the extra sends are the ones in flight at a kill.
    expect(new Set(received.map((r) => r.md5)).size).toBe(IMAGES);
    expect(received.length).toBeLessThan(IMAGES + kills * 300);
  }, 120_000);
});

describe('classify --output refusals and torn lines', () => {
  const images = (): string[] => [0, 1, 2].map((n) => join(dir, `img-${n}.ppm`));

  it('refuses to overwrite results without --force, and overwrites with it', async () => {
    const output = join(dir, 'kept.csv');
    await writeFile(output, 'precious results\n');
    const refused = await runCli(['classify', '--local', '--format', 'csv', '--output', output, ...images()]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^athena-rx: OUTPUT_EXISTS: .*kept\.csv exists/);
    expect(await readFile(output, 'utf8')).toBe('precious results\n');
    const forced = await runCli([
      'classify',
      '--local',
      '--force',
      '--format',
      'csv',
      '--output',
      output,
      ...images(),
    ]);
    expect(forced.code).toBe(0);
    expect((await readFile(output, 'utf8')).split('\n')[0]).toMatch(/^source,status,/);
  }, 60_000);

  it('refuses to resume into a file that is not a journal, leaving it untouched', async () => {
    const output = join(dir, 'table.txt');
    await writeFile(output, 'SOURCE  KNOWN HASH  TOP LABEL\n');
    const run = await runCli([
      'classify',
      '--local',
      '--format',
      'jsonl',
      '--output',
      output,
      '--resume',
      ...images(),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^athena-rx: JOURNAL_INVALID: .*table\.txt is not a journal/);
    expect(await readFile(output, 'utf8')).toBe('SOURCE  KNOWN HASH  TOP LABEL\n');
  }, 60_000);

  it('cuts a torn last line and finishes the run with each input once', async () => {
    const output = join(dir, 'torn.jsonl');
    const [first, ...rest] = images();
    const once = await runCli(['classify', '--local', '--format', 'jsonl', '--output', output, first!]);
    expect(once.code).toBe(0);
    await writeFile(output, `${await readFile(output, 'utf8')}{"ref":"${rest[0]}","source":{"si`);
    const resumed = await runCli([
      'classify',
      '--local',
      '--format',
      'jsonl',
      '--output',
      output,
      '--resume',
      ...images(),
    ]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(
      /1 images already done are skipped; a torn last line \(\d+ bytes\) was cut off/,
    );
    expect(resumed.stderr).toContain('2 images: 2 classified, 0 failed, 1 already done (skipped)');
    expect((await lines(output)).map((line) => line.ref).sort()).toEqual(images().sort());
  }, 60_000);
});
