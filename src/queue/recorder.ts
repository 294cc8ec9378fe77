/**
 * The worker's writes to Redis: which refs of a chunk still lack an outcome, an outcome recorded at
 * most once per ref (with its stream entry, in one Lua script), and a chunk's dead letter with a
 * `transport`-stage `CHUNK_FAILED` outcome for each of its refs still without one.
 */
import type { Redis } from 'ioredis';
import { AthenaError } from '../errors.js';
import { toFailure, type Outcome } from '../model.js';
import { DEAD_LETTER_SCRIPT, RECORD_SCRIPT, recordOf, refKey, runKeys } from './keys.js';

type Scripted = Redis & {
  athenaRecord(
    meta: string,
    outcomes: string,
    stream: string,
    ref: string,
    record: string,
    ok: string,
  ): Promise<number>;
  athenaDeadLetter(meta: string, stream: string, chunk: string, error: string): Promise<number>;
};

export interface Recorder {
  /** The refs (as given) of `refs` that have no outcome yet. */
  todo(run: string, refs: readonly string[]): Promise<string[]>;
  /** Records an outcome unless its ref has one; true when written. */
  record(run: string, outcome: Outcome): Promise<boolean>;
  /**
   * Records a chunk's dead letter (once) and a failure for each of its refs without an outcome;
   * resolves to the number of refs that got one.
   */
  deadLetter(run: string, chunk: number, refs: readonly string[], error: AthenaError): Promise<number>;
}

export function createRecorder(redis: Redis): Recorder {
  const scripted = redis as Scripted;
  redis.defineCommand('athenaRecord', { numberOfKeys: 3, lua: RECORD_SCRIPT });
  redis.defineCommand('athenaDeadLetter', { numberOfKeys: 2, lua: DEAD_LETTER_SCRIPT });
  const record = async (run: string, outcome: Outcome): Promise<boolean> => {
    const keys = runKeys(run);
    const ok = outcome.ok ? '1' : '0';
    const written = await scripted.athenaRecord(
      keys.meta,
      keys.outcomes,
      keys.stream,
      outcome.ref,
      recordOf(outcome),
      ok,
    );
    return written === 1;
  };
  return {
    async todo(run, refs) {
      if (refs.length === 0) return [];
      const known = await redis.hmget(runKeys(run).outcomes, ...refs.map(refKey));
      return refs.filter((_, i) => known[i] === null);
    },
    record,
    async deadLetter(run, chunk, refs, error) {
      const keys = runKeys(run);
      const reason = JSON.stringify({ code: error.code, message: error.message });
      await scripted.athenaDeadLetter(keys.meta, keys.stream, String(chunk), reason);
      const failure = new AthenaError(
        'CHUNK_FAILED',
        `chunk ${chunk} of run ${run} failed for good: ${error.code}: ${error.message}`,
      );
      let written = 0;
      for (const ref of refs) {
        if (await record(run, toFailure({ ref: refKey(ref) }, 'transport', failure))) written += 1;
      }
      return written;
    },
  };
}
