import { type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AthenaServer, startAthenaServer } from '../../src/testing/server.js';
import { runCli, samples, startServe } from '../support/cli.js';

describe('athena-rx known-hash matches and fatal errors (built binary)', () => {
  let dir: string;
  let known: string;
  let other: string;
  let served: { child: ChildProcess; address: string };
  let tlsServer: AthenaServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'athena-cli-err-'));
    known = join(dir, 'known.jpg');
    other = join(dir, 'other.webp');
    await copyFile(join(samples, '17-dragonfly-small.jpg'), known);
    await copyFile(join(samples, '21-greentock-small.webp'), other);
    const md5 = createHash('md5')
      .update(await readFile(known))
      .digest('hex');
    await writeFile(join(dir, 'hashes.txt'), `# known\n${md5}\n`);
    served = await startServe(['--known-hashes', join(dir, 'hashes.txt')]);
    const pems = await generate([{ name: 'commonName', value: 'athena-rx cli test' }], {
      keyType: 'ec',
      curve: 'P-256',
      notAfterDate: new Date(Date.now() + 24 * 3_600_000),
    });
    tlsServer = await startAthenaServer({ tls: { key: pems.private, cert: pems.cert } });
  }, 60_000);

  afterAll(async () => {
    served?.child.kill('SIGTERM');
    await tlsServer?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const remote = (): Record<string, string> => ({ ATHENA_ADDRESS: served.address, ATHENA_AFFILIATE: 'acme' });

  it('marks a known-hash match in the table and lists it first in the summary', async () => {
    const run = await runCli(['classify', '--insecure', '--no-progress', other, known], remote());
    expect(run.code).toBe(0);
    const rows = run.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^SOURCE\s+KNOWN HASH\s+TOP LABEL/);
    const knownRow = rows.find((row) => row.includes('known.jpg'));
    const otherRow = rows.find((row) => row.includes('other.webp'));
    expect(knownRow).toMatch(/known\.jpg\s+MD5\s+\S+ \d\.\d{3}/);
    expect(otherRow).toMatch(/other\.webp\s{10,}\S+ \d\.\d{3}/);
    const summary = run.stderr.trim().split('\n');
    expect(summary[0]).toBe('KNOWN HASH MATCHES: 1');
    expect(summary[1]).toBe(`  ${known}  (KnownCSAM-MD5)`);
    expect(summary[2]).toBe('2 images: 2 classified, 0 failed');
  });

  it('marks matches in JSON lines and CSV, and exits 3 with --fail-on-known-match', async () => {
    const jsonl = await runCli(
      ['classify', '--insecure', '--format', 'jsonl', '--fail-on-known-match', other, known],
      remote(),
    );
    expect(jsonl.code).toBe(3);
    const lines = jsonl.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { ref: string; knownMatch: boolean });
    expect(lines.find((l) => l.ref === known)?.knownMatch).toBe(true);
    expect(lines.find((l) => l.ref === other)?.knownMatch).toBe(false);

    const csv = await runCli(
      ['classify', '--insecure', '--format', 'csv', '--fail-on-known-match', other],
      remote(),
    );
    expect(csv.code).toBe(0);
    const [header, row] = csv.stdout.trim().split('\n');
    expect(header).toMatch(/^source,status,known_match,top_label,/);
    expect(row).toMatch(/other\.webp,ok,false,/);
    const matched = await runCli(['classify', '--insecure', '--format', 'csv', known], remote());
    expect(matched.code).toBe(0);
    expect(matched.stdout).toMatch(/known\.jpg,ok,true,/);
  });

  it('explains an address in use', async () => {
    const port = served.address.split(':').pop() ?? '';
    const run = await runCli(['serve', '--port', port]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `athena-rx: ADDRESS_IN_USE: cannot listen on ${served.address}: the address is already in use\n` +
        '  hint: another process listens there: stop it, or pick another --port (0 picks a free one)\n',
    );
  });

  it('explains an output file that cannot be written', async () => {
    const run = await runCli([
      'classify',
      '--local',
      '--output',
      join(dir, 'no-such-folder', 'r.csv'),
      known,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^athena-rx: WRITE_FAILED: cannot write .*r\.csv: its folder does not exist\n {2}hint: /,
    );
  });

  it('explains TLS against a plaintext server, suggesting --insecure', async () => {
    const run = await runCli(['classify', '--no-progress', known], remote());
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^athena-rx: TLS_MISMATCH: .*plaintext/);
    expect(run.stderr).toContain('add --insecure');
    expect(run.stderr).not.toMatch(/Resolution note|ssl3_|openssl/);
    const deployments = await runCli(['deployments'], { ATHENA_ADDRESS: served.address });
    expect(deployments.code).toBe(1);
    expect(deployments.stderr).toMatch(/^athena-rx: TLS_MISMATCH: /);
  });

  it('explains a certificate the client does not trust, suggesting --root-certs', async () => {
    const run = await runCli(['classify', '--no-progress', known], {
      ATHENA_ADDRESS: tlsServer.address,
      ATHENA_AFFILIATE: 'acme',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^athena-rx: CERTIFICATE_INVALID: /);
    expect(run.stderr).toContain('--root-certs');
    expect(run.stderr).not.toContain('Resolution note');
  });

  it('warns about an empty input set and exits 2', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty);
    await writeFile(join(empty, 'notes.txt'), 'not an image');
    const run = await runCli(['classify', '--local', '--format', 'jsonl', empty]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^athena-rx: NO_INPUT: no images in the inputs/);
    expect(run.stderr.trim().split('\n').slice(-2)[0]).toBe('0 images: 0 classified, 0 failed');
  });
});
