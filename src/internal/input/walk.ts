import { type Dir, type Dirent } from 'node:fs';
import { lstat, opendir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** A file found by {@link walk}, or a directory that could not be walked (`error` set). */
export interface WalkEntry {
  readonly path: string;
  readonly error?: unknown;
}

export interface WalkOptions {
  /** Descend into subdirectories. */
  readonly recursive: boolean;
  /** Follow symbolic links to files and directories; links are skipped otherwise. */
  readonly followSymlinks: boolean;
  /** Whether a file name is wanted. */
  readonly accept: (name: string) => boolean;
}

/**
 * Walks a directory tree lazily, depth first, with `fs.opendir`: entries are read in small chunks
 * as the consumer pulls, never a whole directory at once, and only the directories on the current
 * path are open. Order within a directory is the order the file system gives. A directory that
 * cannot be opened or read (the root missing, a directory removed mid-walk, no permission) is
 * yielded once with its error and the walk goes on. When links are followed, each directory is
 * walked once (by device and inode), which guards against link loops. Closing the generator
 * (`return()`) closes the open directory handles.
 */
export async function* walk(root: string, options: WalkOptions): AsyncGenerator<WalkEntry, void, undefined> {
  yield* walkDirectory(root, options, new Set<string>());
}

async function* walkDirectory(
  dir: string,
  options: WalkOptions,
  visited: Set<string>,
): AsyncGenerator<WalkEntry, void, undefined> {
  let handle: Dir;
  try {
    if (options.followSymlinks) {
      const info = await stat(dir, { bigint: true });
      const id = `${info.dev}:${info.ino}`;
      if (visited.has(id)) return;
      visited.add(id);
    }
    handle = await opendir(dir, { bufferSize: 64 });
  } catch (error) {
    yield { path: dir, error };
    return;
  }
  try {
    for (;;) {
      let dirent: Dirent | null;
      try {
        dirent = await handle.read();
      } catch (error) {
        yield { path: dir, error };
        return;
      }
      if (dirent === null) return;
      const path = join(dir, dirent.name);
      const kind = await kindOf(dirent, path, options.followSymlinks);
      if (kind === 'directory') {
        if (options.recursive) yield* walkDirectory(path, options, visited);
      } else if (kind === 'file' && options.accept(dirent.name)) {
        yield { path };
      }
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
}

type Kind = 'file' | 'directory' | 'other';

async function kindOf(dirent: Dirent, path: string, followSymlinks: boolean): Promise<Kind> {
  if (!dirent.isSymbolicLink()) {
    if (dirent.isFile()) return 'file';
    if (dirent.isDirectory()) return 'directory';
    if (dirent.isBlockDevice() || dirent.isCharacterDevice() || dirent.isFIFO() || dirent.isSocket()) {
      return 'other';
    }
    // Some file systems do not report the type in the directory entry.
    const info = await lstat(path).catch(() => undefined);
    if (info === undefined) return 'other';
    if (!info.isSymbolicLink()) return kindOfStats(info);
  }
  if (!followSymlinks) return 'other';
  // A dangling link counts as a file, so a wanted name gives a read failure instead of vanishing.
  return stat(path).then(kindOfStats, () => 'file' as const);
}

function kindOfStats(info: { isFile(): boolean; isDirectory(): boolean }): Kind {
  return info.isFile() ? 'file' : info.isDirectory() ? 'directory' : 'other';
}
