import { extname } from 'node:path';
import { DEFAULT_IMAGE_EXTENSIONS } from '../sources/fromDirectory.js';
import { walk } from '../internal/input/walk.js';

const WANTED = new Set(DEFAULT_IMAGE_EXTENSIONS);

/**
 * Counts the items the sources will give: one per file and URL, and per directory one per image
 * file (and per unreadable folder, which gives one failure) as `fromDirectory` walks it. Walking
 * names only is far cheaper than reading the images, so the total is known long before the run ends.
 * Resolves to undefined when `signal` aborts first or more than `limit` entries are found (the
 * progress then says the total is still growing).
 */
export async function countInputs(
  sorted: { urls: readonly string[]; dirs: readonly string[]; files: readonly string[] },
  recursive: boolean,
  signal: AbortSignal,
  limit = 5_000_000,
): Promise<number | undefined> {
  let total = sorted.urls.length + sorted.files.length;
  for (const dir of sorted.dirs) {
    const entries = walk(dir, {
      recursive,
      followSymlinks: false,
      accept: (name) => WANTED.has(extname(name).toLowerCase()),
    });
    // Leaving the loop early closes the walk's open directory handles.
    for await (const entry of entries) {
      void entry;
      total++;
      if (signal.aborted || total > limit) return undefined;
    }
  }
  return signal.aborted ? undefined : total;
}
