/**
 * The shared photo corpus, found relative to the repository root wherever it is cloned
 * (`../shared/corpus/photos`). In CI its absence is a failure, never a silent skip; elsewhere the
 * tests that need it are skipped with a message naming where it was looked for.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

/** `../shared/corpus/photos/` beside the repository, with a trailing slash. */
export const CORPUS = fileURLToPath(new URL('../../../shared/corpus/photos/', import.meta.url));

/** Whether the corpus is there (its MANIFEST.md, which lists the photos, included). */
export const HAVE_CORPUS = existsSync(`${CORPUS}MANIFEST.md`);

/**
 * `describe` for tests on the corpus: runs them when it is there; in CI without it, one test fails
 * saying so; elsewhere they are skipped.
 */
export function describeOnCorpus(name: string, body: () => void): void {
  if (HAVE_CORPUS) describe(name, body);
  else if (process.env['CI']) {
    describe(name, () => {
      it('finds the photo corpus', () => {
        throw new Error(`the photo corpus is missing: expected it at ${CORPUS}`);
      });
    });
  } else describe.skip(`${name} (no photo corpus at ${CORPUS})`, body);
}
