import { describe, expect, it } from 'vitest';
import { nextInterrupts, type InterruptEvent, type InterruptState } from '../../src/cli/interrupts.js';
import {
  MALLOC_TUNABLES,
  planRelaunch,
  RELAUNCHED_ENV,
  runtimeLibc,
  runtimeHasTransfer,
  TRANSFER_FLAG,
  TUNE_MALLOC_ENV,
  YOUNG_GENERATION_FLAG,
  OLD_GENERATION_FLAG,
} from '../../src/cli/relaunch.js';

const argv = (...rest: string[]): string[] => ['/usr/bin/node', '/pkg/dist/cli/bin.js', ...rest];

describe('planRelaunch', () => {
  it('runs classify on glibc in a child with the tunables and the marker', () => {
    expect(planRelaunch(argv('classify', 'photos'), { PATH: '/bin' }, 'glibc', true)).toEqual({
      relaunch: true,
      env: { GLIBC_TUNABLES: MALLOC_TUNABLES, [RELAUNCHED_ENV]: '1' },
      flags: [YOUNG_GENERATION_FLAG, OLD_GENERATION_FLAG],
    });
    expect(MALLOC_TUNABLES).toMatch(/^glibc\.malloc\.mmap_threshold=\d+(:glibc\.malloc\.\w+=\d+)*$/);
  });

  it('keeps tunables of the user that are not malloc ones, theirs first', () => {
    const plan = planRelaunch(argv('classify', 'x'), { GLIBC_TUNABLES: 'glibc.rtld.nns=4' }, 'glibc', true);
    expect(plan).toEqual({
      relaunch: true,
      env: { GLIBC_TUNABLES: `glibc.rtld.nns=4:${MALLOC_TUNABLES}`, [RELAUNCHED_ENV]: '1' },
      flags: [YOUNG_GENERATION_FLAG, OLD_GENERATION_FLAG],
    });
  });

  it('gives the child the flag for ArrayBuffer transfer where this Node lacks the method', () => {
    const plan = planRelaunch(argv('classify', 'x'), {}, 'glibc', false);
    expect(plan.relaunch && plan.flags).toEqual([TRANSFER_FLAG, YOUNG_GENERATION_FLAG, OLD_GENERATION_FLAG]);
    expect(planRelaunch(argv('serve'), {}, 'glibc', false)).toEqual({ relaunch: false, reason: 'command' });
    expect(runtimeHasTransfer()).toBe(
      typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function',
    );
  });

  it("leaves the young generation's size to NODE_OPTIONS when it sets one", () => {
    const plan = (NODE_OPTIONS: string, hasTransfer = true) =>
      planRelaunch(argv('classify', 'x'), { NODE_OPTIONS }, 'glibc', hasTransfer);
    expect(plan('--max-semi-space-size=32 --trace-warnings')).toMatchObject({
      relaunch: true,
      flags: [OLD_GENERATION_FLAG],
    });
    expect(plan('--max_semi_space_size=32', false)).toMatchObject({
      flags: [TRANSFER_FLAG, OLD_GENERATION_FLAG],
    });
    expect(plan('--trace-warnings --max-old-space-size=512')).toMatchObject({
      flags: [YOUNG_GENERATION_FLAG, OLD_GENERATION_FLAG],
    });
  });

  it.each([
    ['another command', argv('serve'), {}, 'glibc', 'command'],
    ['no command', argv(), {}, 'glibc', 'command'],
    ['the child itself', argv('classify'), { [RELAUNCHED_ENV]: '1' }, 'glibc', 'relaunched'],
    ['the opt-out', argv('classify'), { [TUNE_MALLOC_ENV]: '0' }, 'glibc', 'opted out'],
    ['musl, macOS or Windows', argv('classify'), {}, 'other', 'not glibc'],
    [
      "the user's malloc tunables",
      argv('classify'),
      { GLIBC_TUNABLES: 'glibc.rtld.nns=4:glibc.malloc.arena_max=1' },
      'glibc',
      'user malloc settings',
    ],
    ['MALLOC_ARENA_MAX', argv('classify'), { MALLOC_ARENA_MAX: '4' }, 'glibc', 'user malloc settings'],
    [
      'a preloaded allocator',
      argv('classify'),
      { LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2' },
      'glibc',
      'user malloc settings',
    ],
  ] as const)('stays in one process for %s', (_, args, env, libc, reason) => {
    expect(planRelaunch(args, env, libc, false)).toEqual({ relaunch: false, reason });
  });

  it('relaunches when the opt-out variable holds anything but 0', () => {
    expect(planRelaunch(argv('classify'), { [TUNE_MALLOC_ENV]: '1' }, 'glibc', true).relaunch).toBe(true);
  });

  it('finds the C library this Node runs on', () => {
    const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
    const expected =
      process.platform === 'linux' && report.header?.glibcVersionRuntime !== undefined ? 'glibc' : 'other';
    expect(runtimeLibc()).toBe(expected);
  });
});

describe('nextInterrupts', () => {
  const run = (events: readonly InterruptEvent[]): number[] => {
    let state: InterruptState = { direct: 0, forwarded: 0 };
    return events.map((event) => {
      const step = nextInterrupts(state, event);
      state = step.state;
      return step.presses;
    });
  };
  const signal: InterruptEvent = { kind: 'signal' };
  const forwarded = (count: number): InterruptEvent => ({ kind: 'forwarded', count });

  it('counts a Ctrl-C that reached both processes once, whichever arrives first', () => {
    expect(run([signal, forwarded(1)])).toEqual([1, 0]);
    expect(run([forwarded(1), signal])).toEqual([1, 0]);
    expect(run([signal, forwarded(1), forwarded(2), signal])).toEqual([1, 0, 1, 0]);
  });

  it('counts every press passed on by the parent alone, and every SIGINT sent to the child alone', () => {
    expect(run([forwarded(1), forwarded(2)])).toEqual([1, 1]);
    expect(run([signal, signal])).toEqual([1, 1]);
  });

  it('catches up when the parent passes on several presses at once, and ignores a count seen before', () => {
    expect(run([forwarded(2), forwarded(1), forwarded(2)])).toEqual([2, 0, 0]);
  });
});
