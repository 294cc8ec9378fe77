import { type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli, startServe } from '../support/cli.js';
import { CORPUS, describeOnCorpus } from '../support/corpus.js';

interface LogLine {
  readonly type: string;
  readonly method?: string;
  readonly inputs?: readonly unknown[];
}

describeOnCorpus('athena-rx classify --window (built binary, real photos)', () => {
  let dir = '';
  let log = '';
  let served: { child: ChildProcess; address: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'athena-window-'));
    log = join(dir, 'requests.jsonl');
    served = await startServe(['--log', log]);
  }, 60_000);

  afterAll(async () => {
    served?.child.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });

  const classifyRequests = async (): Promise<number[]> =>
    (await readFile(log, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as LogLine)
      .filter((line) => line.type === 'request' && line.method === 'Classify' && line.inputs?.length)
      .map((line) => line.inputs!.length);

  it('never has more images read and unanswered than --window: no request holds more', async () => {
    const args = ['classify', '--address', served.address, '--insecure', '--affiliate', 'acme'];
    const run = await runCli([...args, '--window', '2', '--format', 'jsonl', CORPUS]);
    expect(run.stderr).toContain('24 images: 24 classified, 0 failed');
    expect(run.code).toBe(0);
    const refs = run.stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { ref: string }).ref);
    expect(new Set(refs).size).toBe(24);
    const sizes = await classifyRequests();
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(24);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2);
  }, 120_000);

  it('refuses a window of 0 with the option named', async () => {
    const run = await runCli(['classify', '--local', '--window', '0', CORPUS]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--window');
  });
});
