/**
 * Where the benchmark runs from. `npm run bench` runs it compiled (`dist-bench/bench/*.js`, plain
 * Node, as users run the library), and the smoke spec runs the TypeScript under tsx; the paths and
 * child-process commands below work for both.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** Whether the benchmark runs compiled (plain Node) rather than as TypeScript under tsx. */
export const compiled = import.meta.url.endsWith('.js');

/** The repository root: the nearest folder above this file with a package.json. */
export const repoRoot = findRoot(here);

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/**
 * The Node arguments that run the bench script `name` (e.g. `memory-process`) in a child: the
 * compiled file beside this one, or the TypeScript file under tsx when this one is TypeScript.
 */
export function scriptArgs(name: string): string[] {
  return compiled ? [join(here, `${name}.js`)] : ['--import', 'tsx', join(here, `${name}.ts`)];
}
