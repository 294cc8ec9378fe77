/**
 * Bounded memory by default for `athena-rx classify`: the decision to run the command once more in
 * a child process started with glibc malloc tunables (a pure function of argv, environment and C
 * library), and the thin parent that runs that child, passes Ctrl-C and signals on and ends as it
 * ends. Node built-ins only, so the parent stays small: it loads neither sharp nor gRPC. The
 * command's other memory defaults are in `defaults.ts`.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/** Set in the child's environment: the command was started again already (no second relaunch). */
export const RELAUNCHED_ENV = 'ATHENA_RX_RELAUNCHED';

/** `ATHENA_RX_TUNE_MALLOC=0` keeps the command in one process with the allocator as it comes. */
export const TUNE_MALLOC_ENV = 'ATHENA_RX_TUNE_MALLOC';

/**
 * The glibc malloc tunables of the child. glibc raises its mmap threshold to the size of every
 * large block freed (up to 32 MiB), so after the first multi-megapixel decode the pixel buffers come
 * from heap arenas whose pages are kept after free. Pinned at 1 MiB, each pixel buffer is mmapped
 * and given back when freed, while the many smaller blocks (file reads, compressed images, libvips
 * tiles) are reused from the arenas; pinned at 128 KiB, their mappings and page faults cost about a
 * tenth of the throughput. `hugetlb=1` (glibc 2.35 and later, ignored before) maps the large
 * buffers with transparent huge pages, fewer faults again; two arenas keep the small blocks together.
 */
export const MALLOC_TUNABLES =
  'glibc.malloc.mmap_threshold=1048576:glibc.malloc.hugetlb=1:glibc.malloc.arena_max=2';

/**
 * The V8 flag that gives Node 20 `ArrayBuffer.prototype.transfer` (built in from Node 21), with
 * which decoded pixel buffers are freed as soon as they are read (see `imaging/pixels`), not at
 * the next garbage collection: the child gets it where the method is missing.
 */
export const TRANSFER_FLAG = '--harmony-rab-gsab-transfer';

/**
 * The V8 flag that holds the child's young generation to semi-spaces of 4 MB (16 MB by default on
 * 64-bit): what an image leaves on the JavaScript heap dies young either way, and the smaller
 * nursery keeps about 7 MB less resident. Left out when `NODE_OPTIONS` sets the size already; a size
 * given on the `node` command line comes after it and wins.
 */
export const YOUNG_GENERATION_FLAG = '--max-semi-space-size=4';

/**
 * The V8 flag that starts the child's old generation at 48 MB. V8 begins a full collection when the
 * old generation plus the external memory allocated since the last one passes a limit that, over the
 * command's ~15 MB of live objects, sits near 27 MB; a decoded photo is external memory (30 MB for
 * 10 megapixels, freed as soon as it is read), so nearly every large photo brought a full
 * collection on: about 0.45 per image and a tenth of the CPU. From 48 MB it is about a third of
 * that. What the higher limit lets accumulate is JavaScript garbage only: the command detaches
 * the files it reads once they are resized (`resize`'s `releaseInput`). Node does not take the
 * flag in `NODE_OPTIONS`; a size given on the `node` command line comes after it and wins.
 */
export const OLD_GENERATION_FLAG = '--initial-old-space-size=48';

/** The subcommands that decode images in bulk and so run with the tunables. */
const TUNED_COMMANDS = new Set(['classify']);

/** What {@link planRelaunch} decided: the child's extra environment, or why there is no child. */
export type RelaunchPlan =
  | {
      readonly relaunch: true;
      readonly env: Readonly<Record<string, string>>;
      /** Node options the child gets before the script. */
      readonly flags: readonly string[];
    }
  | { readonly relaunch: false; readonly reason: string };

/**
 * Whether `argv` (as `process.argv`: node, script, subcommand, ...) runs in a child with
 * {@link MALLOC_TUNABLES}: only `classify`, only on glibc, never twice, never with
 * `ATHENA_RX_TUNE_MALLOC=0`, and never over allocator settings the user made (any `glibc.malloc.*`
 * tunable, a `MALLOC_*` variable, or a preloaded allocator). Other tunables the user set are kept.
 * Without `ArrayBuffer.prototype.transfer` (`hasTransfer` false: Node 20) the child also gets
 * {@link TRANSFER_FLAG}; it gets {@link YOUNG_GENERATION_FLAG} unless `NODE_OPTIONS` sizes the
 * semi-spaces itself, and {@link OLD_GENERATION_FLAG}.
 */
export function planRelaunch(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  libc: 'glibc' | 'other',
  hasTransfer: boolean,
): RelaunchPlan {
  if (!TUNED_COMMANDS.has(argv[2] ?? '')) return { relaunch: false, reason: 'command' };
  if (env[RELAUNCHED_ENV] !== undefined) return { relaunch: false, reason: 'relaunched' };
  if (env[TUNE_MALLOC_ENV] === '0') return { relaunch: false, reason: 'opted out' };
  if (libc !== 'glibc') return { relaunch: false, reason: 'not glibc' };
  const tunables = env.GLIBC_TUNABLES ?? '';
  const userMalloc =
    /(^|:)glibc\.malloc\./.test(tunables) ||
    Object.keys(env).some((name) => name.startsWith('MALLOC_') && env[name] !== undefined) ||
    /malloc/i.test(env.LD_PRELOAD ?? '');
  if (userMalloc) return { relaunch: false, reason: 'user malloc settings' };
  return {
    relaunch: true,
    env: {
      GLIBC_TUNABLES: tunables === '' ? MALLOC_TUNABLES : `${tunables}:${MALLOC_TUNABLES}`,
      [RELAUNCHED_ENV]: '1',
    },
    flags: [
      ...(hasTransfer ? [] : [TRANSFER_FLAG]),
      ...(/--max[-_]semi[-_]space[-_]size/.test(env.NODE_OPTIONS ?? '') ? [] : [YOUNG_GENERATION_FLAG]),
      OLD_GENERATION_FLAG,
    ],
  };
}

/** Whether this Node has `ArrayBuffer.prototype.transfer`. */
export function runtimeHasTransfer(): boolean {
  return typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';
}

/** The C library this Node runs on: glibc when the process report names a glibc runtime. */
export function runtimeLibc(): 'glibc' | 'other' {
  if (process.platform !== 'linux') return 'other';
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ? 'glibc' : 'other';
}

/** Signals passed on to the child as they are; the parent ends the way the child ends. */
const FORWARDED = ['SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;

/**
 * Runs this command again in a child with `extraEnv` added and `flags` ahead of this process's own
 * Node options (so the ones the user typed win) and the script: stdio inherited, an IPC channel
 * beside it. Ctrl-C (SIGINT) is passed on as a count of presses once the child listens for them (a
 * terminal's Ctrl-C reaches both processes, so the child counts each press once, see
 * `cli/interrupts`), as the signal itself before; SIGTERM, SIGHUP and SIGQUIT are passed on. The
 * parent exits with the child's code, or dies of the child's signal. Resolves true once the
 * child runs, false when it could not start (the caller then runs the command in this process).
 */
export function relaunch(
  extraEnv: Readonly<Record<string, string>>,
  flags: readonly string[],
): Promise<boolean> {
  return new Promise((resolve) => {
    // The user's own Node options after the child's: V8 takes the last of a flag given twice.
    const child = spawn(process.execPath, [...flags, ...process.execArgv, ...process.argv.slice(1)], {
      env: { ...process.env, ...extraEnv },
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    });
    let listening = false;
    let presses = 0;
    const onInterrupt = (): void => {
      presses += 1;
      // A failed send means the child is going away; its exit decides the parent's.
      if (listening && child.connected) child.send({ interrupts: presses }, () => undefined);
      else child.kill('SIGINT');
    };
    const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
    child.on('message', (message: { listening?: unknown }) => {
      if (typeof message?.listening === 'boolean') listening = message.listening;
    });
    child.once('spawn', () => {
      process.on('SIGINT', onInterrupt);
      for (const signal of FORWARDED) process.on(signal, forward);
      resolve(true);
    });
    child.on('error', () => resolve(false));
    child.once('exit', (code, signal) => {
      process.off('SIGINT', onInterrupt);
      for (const s of FORWARDED) process.off(s, forward);
      if (signal === null) process.exit(code ?? 1);
      process.kill(process.pid, signal);
      // A signal Node ignores (SIGPIPE) does not end the parent: exit as a shell reports it.
      process.exit(128 + (constants.signals[signal] ?? 0));
    });
  });
}
