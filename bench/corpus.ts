import { readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The image file names the benchmark reads (MANIFEST.md and licences are skipped). */
const IMAGE = /\.(jpe?g|png|webp|gif|tiff?|bmp)$/i;

/** One corpus file, read once into memory. */
export interface CorpusFile {
  readonly name: string;
  readonly path: string;
  readonly data: Buffer;
}

/** The default corpus: `../shared/corpus/photos` relative to the repository root. */
export function defaultCorpusDir(repoRoot: string): string {
  return resolve(repoRoot, '..', 'shared', 'corpus', 'photos');
}

/** Reads the corpus into memory, sorted by name; `undefined` when the directory is absent or empty. */
export async function loadCorpus(dir: string, limit?: number): Promise<CorpusFile[] | undefined> {
  if (!existsSync(dir)) return undefined;
  const names = (await readdir(dir)).filter((n) => IMAGE.test(n)).sort();
  const chosen = limit === undefined ? names : spread(names, limit);
  if (chosen.length === 0) return undefined;
  return Promise.all(
    chosen.map(async (name) => {
      const path = join(dir, name);
      return { name, path, data: await readFile(path) };
    }),
  );
}

/** `count` names spread evenly over the sorted list, so a subset keeps every format. */
function spread(names: readonly string[], count: number): string[] {
  if (count >= names.length) return [...names];
  return Array.from({ length: count }, (_, i) => names[Math.floor((i * names.length) / count)]!);
}

/** The corpus paths cycled until `total` paths were given (lazy: nothing is held). */
export async function* cycledPaths(files: readonly CorpusFile[], total: number): AsyncGenerator<string> {
  for (let i = 0; i < total; i += 1) yield files[i % files.length]!.path;
}
