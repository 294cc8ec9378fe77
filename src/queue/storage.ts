/**
 * The check a chunk passes before its refs are read: every folder its files are in must be there.
 * A missing file is the image's own failure; a missing folder is storage that is not mounted, and
 * fails the whole chunk so that it is tried again later.
 */
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AthenaError } from '../errors.js';
import { isUrl } from './keys.js';

export async function checkStorage(refs: readonly string[]): Promise<void> {
  const folders = new Set(refs.filter((ref) => !isUrl(ref)).map((ref) => dirname(ref)));
  for (const folder of folders) {
    const info = await stat(folder).catch(() => undefined);
    if (info?.isDirectory() !== true) {
      throw new AthenaError('READ_FAILED', `the storage of the chunk's files is not reachable: ${folder}`);
    }
  }
}
