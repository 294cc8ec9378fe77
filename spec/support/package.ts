/**
 * The package as a consumer gets it: packing a copy of the checkout (prepack builds it) into a
 * tarball, and installing that tarball into throwaway consumer projects with plain `npm install`.
 */
import { execFile, type ExecFileOptions } from 'node:child_process';
import { cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const root = new URL('../..', import.meta.url).pathname;
/** What a checkout holds that packing needs (no dist/, no node_modules of its own). */
const CHECKOUT = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'src', 'proto'];
/** Flags of every consumer install: quiet, and peers resolved as npm does by default (ERESOLVE fails). */
const INSTALL_FLAGS = [
  '--no-audit',
  '--no-fund',
  '--no-update-notifier',
  '--legacy-peer-deps=false',
  '--force=false',
];

export interface Run {
  code: number | null;
  killed: boolean;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end (or `timeout`, 120 s unless given), never rejecting: the result says how it went. */
export function run(
  file: string,
  args: readonly string[],
  options: ExecFileOptions & { cwd: string },
): Promise<Run> {
  return new Promise((done) => {
    execFile(
      file,
      args,
      { timeout: 120_000, maxBuffer: 32 * 1024 * 1024, ...options },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        done({ code, killed: error?.killed ?? false, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** This process's environment without what an enclosing `npm test` tells npm about this project. */
export function npmEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !(key.startsWith('npm_') && !keep.has(key)) && key !== 'INIT_CWD',
    ),
  );
}

export interface Packed {
  /** Absolute path of the tarball. */
  readonly tarball: string;
  /** The paths packed, relative to the package root. */
  readonly files: readonly string[];
  /** How `npm pack` went (its `code` is 0 when the tarball exists). */
  readonly result: Run;
}

/**
 * Copies what a checkout holds into `work/checkout` (this project's node_modules linked in, for the
 * build) and packs it into `work`, so that prepack must build from sources alone.
 */
export async function packCheckout(work: string): Promise<Packed> {
  const checkout = join(work, 'checkout');
  for (const name of CHECKOUT) await cp(join(root, name), join(checkout, name), { recursive: true });
  await symlink(join(root, 'node_modules'), join(checkout, 'node_modules'), 'dir');
  const result = await run('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: checkout,
    env: npmEnv(),
  });
  if (result.code !== 0) return { tarball: '', files: [], result };
  const [report] = JSON.parse(result.stdout.slice(result.stdout.search(/^\[/m))) as {
    filename: string;
    files: { path: string }[];
  }[];
  return {
    tarball: join(work, report?.filename ?? 'missing.tgz'),
    files: report?.files.map((file) => file.path) ?? [],
    result,
  };
}

/**
 * Makes `dir` an ES-module project depending on `dependencies` and runs `npm install` there: from the
 * local npm cache first, from the registry when the cache lacks something. Never with
 * `--legacy-peer-deps` or `--force`: a peer conflict fails the install.
 */
export async function installConsumer(dir: string, dependencies: Record<string, string>): Promise<Run> {
  await mkdir(dir, { recursive: true });
  const manifest = { name: 'consumer', private: true, type: 'module', dependencies };
  await writeFile(join(dir, 'package.json'), JSON.stringify(manifest));
  const offline = await run('npm', ['install', '--offline', ...INSTALL_FLAGS], { cwd: dir, env: npmEnv() });
  if (offline.code === 0) return offline;
  return run('npm', ['install', '--prefer-offline', ...INSTALL_FLAGS], { cwd: dir, env: npmEnv() });
}
