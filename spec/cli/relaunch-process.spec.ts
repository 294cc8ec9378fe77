import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  MALLOC_TUNABLES,
  runtimeHasTransfer,
  runtimeLibc,
  TRANSFER_FLAG,
  YOUNG_GENERATION_FLAG,
  OLD_GENERATION_FLAG,
} from '../../src/cli/relaunch.js';
import { bin, samples } from '../support/cli.js';

/** The processes whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * The environment a process started with, one `NAME=value` a line. glibc splits GLIBC_TUNABLES at
 * its colons in place, so each tunable shows as a line of its own.
 */
const environOf = (pid: number): string[] =>
  readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);

/** Alive and not a zombie. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * The launcher's child once it runs the command: found as soon as it is forked, its environment
 * is the launcher's until it has exec'd node again, so wait for the variable the launcher adds.
 */
function relaunchedChild(launcher: number): Promise<number> {
  return waitFor(() => {
    const child = childrenOf(launcher)[0];
    try {
      return child !== undefined && environOf(child).includes('ATHENA_RX_RELAUNCHED=1') ? child : undefined;
    } catch {
      return undefined; // gone meanwhile
    }
  }, 'relaunched child process');
}

/** Polls `probe` every 25 ms until it gives a value, for at most `ms`. */
async function waitFor<T>(probe: () => T | undefined, what: string, ms = 20_000): Promise<T> {
  for (let i = 0; i < ms / 25; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no ${what} after ${ms} ms`);
}

const glibc = runtimeLibc() === 'glibc';
const env = (extra: Record<string, string> = {}): Record<string, string> => ({
  PATH: process.env.PATH ?? '',
  ...extra,
});

/** `athena-rx classify --local --format jsonl -`: it waits for the list on stdin, so it can be looked at. */
function classifyFromStdin(
  extra: Record<string, string> = {},
  detached = false,
  args: string[] = ['-'],
  nodeOptions: string[] = [],
): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [...nodeOptions, bin, 'classify', '--local', '--format', 'jsonl', ...args], {
    env: env(extra),
    stdio: 'pipe',
    detached,
  });
}

function finished(child: ChildProcessWithoutNullStreams): Promise<{
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const two = `${join(samples, '17-dragonfly-small.jpg')}\n${join(samples, '18-grey-small.jpg')}\n`;

describe.runIf(process.platform === 'linux')('athena-rx classify with the allocator settings', () => {
  const started: number[] = [];
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'athena-relaunch-'));
  });

  afterEach(() => {
    for (const pid of started.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const track = (child: ChildProcessWithoutNullStreams): ChildProcessWithoutNullStreams => {
    started.push(child.pid!);
    return child;
  };

  it.runIf(glibc)(
    'decodes in a child that has the malloc tunables; the launcher has none; results and exit code pass through',
    async () => {
      const launcher = track(classifyFromStdin());
      const done = finished(launcher);
      const child = await relaunchedChild(launcher.pid!);
      started.push(child);
      const childEnv = environOf(child);
      expect(childEnv).toContain('ATHENA_RX_RELAUNCHED=1');
      // Each tunable of MALLOC_TUNABLES, in order, as glibc left them.
      const first = childEnv.indexOf(`GLIBC_TUNABLES=${MALLOC_TUNABLES.split(':')[0]}`);
      expect(first).toBeGreaterThan(-1);
      expect(childEnv.slice(first + 1, first + MALLOC_TUNABLES.split(':').length)).toEqual(
        MALLOC_TUNABLES.split(':').slice(1),
      );
      expect(environOf(launcher.pid!).join('\n')).not.toMatch(/GLIBC_TUNABLES|ATHENA_RX_RELAUNCHED/);
      // Node 20 has no ArrayBuffer transfer without the flag: the child gets it before the script.
      const argv = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0');
      expect(argv.indexOf(TRANSFER_FLAG) > 0 && argv.indexOf(TRANSFER_FLAG) < argv.indexOf('classify')).toBe(
        !runtimeHasTransfer(),
      );
      for (const flag of [YOUNG_GENERATION_FLAG, OLD_GENERATION_FLAG]) {
        expect(argv.indexOf(flag)).toBeGreaterThan(0);
        expect(argv.indexOf(flag)).toBeLessThan(argv.indexOf('classify'));
      }

      launcher.stdin.end(two);
      const run = await done;
      expect(run.code).toBe(0);
      const rows = run.stdout.trim().split('\n');
      expect(rows.map((r) => (JSON.parse(r) as { ok: boolean }).ok)).toEqual([true, true]);
      expect(run.stderr).toContain('2 images: 2 classified, 0 failed');
      expect(running(child)).toBe(false);
    },
    60_000,
  );

  it.runIf(glibc)(
    "puts the Node options the user typed after the child's own, so the user's win",
    async () => {
      const theirs = ['--max-semi-space-size=8', '--initial-old-space-size=96'];
      const launcher = track(classifyFromStdin({}, false, ['-'], theirs));
      const done = finished(launcher);
      const child = await relaunchedChild(launcher.pid!);
      started.push(child);
      const argv = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0');
      for (const [ours, mine] of [
        [YOUNG_GENERATION_FLAG, theirs[0]!],
        [OLD_GENERATION_FLAG, theirs[1]!],
      ] as const) {
        expect(argv.indexOf(ours)).toBeGreaterThan(0);
        expect(argv.indexOf(mine)).toBeGreaterThan(argv.indexOf(ours));
        expect(argv.indexOf(mine)).toBeLessThan(argv.indexOf('classify'));
      }
      launcher.stdin.end(two);
      expect((await done).code).toBe(0);
    },
    60_000,
  );

  it.runIf(glibc)(
    'keeps tunables the user set that are not malloc ones, theirs first',
    async () => {
      const launcher = track(classifyFromStdin({ GLIBC_TUNABLES: 'glibc.rtld.nns=4' }));
      const done = finished(launcher);
      const child = await relaunchedChild(launcher.pid!);
      started.push(child);
      const childEnv = environOf(child);
      const at = childEnv.indexOf('GLIBC_TUNABLES=glibc.rtld.nns=4');
      expect(at).toBeGreaterThan(-1);
      expect(childEnv[at + 1]).toBe(MALLOC_TUNABLES.split(':')[0]);
      launcher.stdin.end(two);
      expect((await done).code).toBe(0);
    },
    60_000,
  );

  it.each([
    ['malloc tunables of their own', { GLIBC_TUNABLES: 'glibc.malloc.arena_max=1' }],
    ['the opt-out', { ATHENA_RX_TUNE_MALLOC: '0' }],
  ])(
    'runs in one process, as the user set it, with %s',
    async (_, extra) => {
      const cli = track(classifyFromStdin(extra, false, [join(samples, '17-dragonfly-small.jpg')]));
      cli.stdin.end();
      const done = finished(cli);
      // A relaunched child lives for the whole run, far longer than one poll.
      let children = 0;
      let polling = true;
      const poll = (async () => {
        for (let i = 0; polling && i < 2400; i++) {
          children += childrenOf(cli.pid!).length;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      })();
      const run = await done;
      polling = false;
      await poll;
      expect(run.code).toBe(0);
      expect(run.stderr).toContain('1 images: 1 classified, 0 failed');
      expect(children).toBe(0);
    },
    60_000,
  );

  it.runIf(glibc)(
    'exits 2 when an image fails, and 1 on a bad argument, through the child',
    async () => {
      const failing = track(classifyFromStdin());
      const done = finished(failing);
      await waitFor(() => childrenOf(failing.pid!)[0], 'child process');
      failing.stdin.end(`${join(samples, '17-dragonfly-small.jpg')}\n${join(dir, 'missing.jpg')}\n`);
      expect((await done).code).toBe(2);

      const bad = track(classifyFromStdin({}, false, ['--batch-size', '0', '-']));
      bad.stdin.end();
      const run = await finished(bad);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/batch-size/);
    },
    60_000,
  );

  it.runIf(glibc)(
    'passes SIGTERM on and dies of it as the child does',
    async () => {
      const launcher = track(classifyFromStdin());
      const done = finished(launcher);
      const child = await relaunchedChild(launcher.pid!);
      started.push(child);
      launcher.kill('SIGTERM');
      const run = await done;
      expect(run.signal).toBe('SIGTERM');
      await waitFor(() => (running(child) ? undefined : true), 'end of the child');
    },
    60_000,
  );

  it.runIf(glibc)(
    'ends the child when the launcher is killed outright',
    async () => {
      const launcher = track(classifyFromStdin());
      const done = finished(launcher);
      const child = await relaunchedChild(launcher.pid!);
      started.push(child);
      launcher.kill('SIGKILL');
      await done;
      expect(await waitFor(() => (running(child) ? undefined : true), 'end of the orphaned child')).toBe(
        true,
      );
    },
    60_000,
  );

  it.runIf(glibc)(
    "stops on a terminal's Ctrl-C, which reaches launcher and child, letting in-flight images finish (exit 130)",
    async () => {
      const many = join(dir, 'many');
      await mkdir(many, { recursive: true });
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          copyFile(join(samples, '10-freshflower.jpg'), join(many, `p${i}.jpg`)),
        ),
      );
      // A process group of its own, like a shell's job: a signal to the group reaches both processes.
      const launcher = track(classifyFromStdin({}, true, [many]));
      launcher.stdin.end();
      let rows = 0;
      let sent = false;
      launcher.stdout.on('data', (chunk: Buffer) => {
        rows += chunk.toString().split('\n').length - 1;
        if (!sent && rows >= 3) {
          sent = true;
          process.kill(-launcher.pid!, 'SIGINT');
        }
      });
      const run = await finished(launcher);
      expect(sent).toBe(true);
      expect(run.code).toBe(130);
      const lines = run.stdout.trim().split('\n');
      for (const line of lines) expect(JSON.parse(line)).toMatchObject({ ok: true });
      expect(run.stderr).toMatch(
        new RegExp(`Interrupted: ${lines.length} images: ${lines.length} classified`),
      );
      expect(lines.length).toBeLessThan(200);
    },
    60_000,
  );
});
