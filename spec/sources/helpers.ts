import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray, type Observable } from 'rxjs';
import type { ItemOrFailure } from '../../src/model.js';
import { releaseLeases } from '../../src/operators/releaseLeases.js';

/** Everything a source emits, leases released as values arrive. */
export function collect(source: Observable<ItemOrFailure>): Promise<ItemOrFailure[]> {
  return lastValueFrom(source.pipe(releaseLeases(), toArray()));
}

/** `ref` for items, `ref:CODE` for failures. */
export function summary(value: ItemOrFailure): string {
  return value.kind === 'image' ? value.ref : `${value.ref}:${value.stage}:${value.error.code}`;
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'athena-rx-sources-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export const ticks = async (n = 20): Promise<void> => {
  for (let i = 0; i < n; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
};

/** Waits until `check()` holds, polling every 5 ms, for at most `ms` (bounded in count and time). */
export async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (let i = 0; i < ms / 5 && !check() && Date.now() < deadline; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
