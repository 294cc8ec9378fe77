/**
 * The worker's chunk runner: feeds the refs of the chunks it holds into one long-lived pipeline's
 * sources, routes each outcome back to its chunk through the ledger, records final outcomes in
 * Redis, and settles each chunk's promise (resolved with the outcomes recorded, or rejected so that
 * BullMQ tries the chunk again).
 */
import { EMPTY, from, merge, mergeMap, type Observable } from 'rxjs';
import type { AthenaError } from '../errors.js';
import { isFinalRecord, journalRecord } from '../internal/journal/record.js';
import type { ItemOrFailure, Outcome } from '../model.js';
import { fromFiles } from '../sources/fromFiles.js';
import { fromUrls } from '../sources/fromUrls.js';
import { redisError, type RedisTarget } from './connection.js';
import { createFeed } from './feed.js';
import { isUrl, refKey, type ChunkPayload } from './keys.js';
import { claim, hold, newLedger, settle, type HeldChunk } from './ledger.js';
import type { Recorder } from './recorder.js';
import { checkStorage } from './storage.js';
import type { WorkerEvent } from './work-options.js';

export interface ChunkRunner {
  /** The items of every chunk's refs, for the pipeline; completes after `end()`. */
  readonly items: Observable<ItemOrFailure>;
  /** Routes and records one outcome of the pipeline. */
  record(outcome: Outcome): Observable<never>;
  /** Works on a chunk; resolves with the outcomes recorded once each of its refs has one. */
  run(payload: ChunkPayload): Promise<number>;
  /** Rejects every chunk held (the pipeline ended). */
  failAll(error: AthenaError): void;
  /** No more chunks: the sources end once they have read what they were given. */
  end(): void;
}

export function createChunkRunner(
  recorder: Recorder,
  target: RedisTarget,
  emit: (event: WorkerEvent) => void,
): ChunkRunner {
  const files = createFeed<string>();
  const urls = createFeed<string>();
  const ledger = newLedger();
  const finishers = new Map<HeldChunk, (error?: AthenaError) => void>();

  const finish = (held: HeldChunk): void => {
    emit({ kind: 'chunk-done', run: held.run, chunk: held.chunk, recorded: held.recorded });
    finishers.get(held)?.(held.error);
    finishers.delete(held);
  };

  return {
    items: merge(fromFiles(files), fromUrls(urls)),
    record(outcome) {
      const held = claim(ledger, outcome.ref);
      if (held === undefined) return EMPTY;
      if (!isFinalRecord(journalRecord(outcome))) {
        // Another try may classify it: the chunk goes back to the queue instead.
        if (settle(held, false, outcome.ok ? undefined : outcome.error)) finish(held);
        return EMPTY;
      }
      const written = recorder.record(held.run, outcome).then(
        (wrote) => {
          if (wrote) emit({ kind: 'outcome', run: held.run, chunk: held.chunk, outcome });
          if (settle(held, wrote)) finish(held);
        },
        (error: unknown) => {
          if (settle(held, false, redisError(error, target, 'cannot record an outcome'))) finish(held);
        },
      );
      return from(written).pipe(mergeMap(() => EMPTY));
    },
    async run(payload) {
      await checkStorage(payload.refs);
      const todo = await recorder.todo(payload.run, payload.refs);
      const { run, chunk } = payload;
      emit({ kind: 'chunk', run, chunk, refs: payload.refs.length, todo: todo.length });
      if (todo.length === 0) {
        emit({ kind: 'chunk-done', run, chunk, recorded: 0 });
        return 0;
      }
      const held = hold(ledger, run, chunk, todo.map(refKey));
      const done = new Promise<number>((resolve, reject) =>
        finishers.set(held, (error) => (error === undefined ? resolve(held.recorded) : reject(error))),
      );
      files.push(todo.filter((ref) => !isUrl(ref)));
      urls.push(todo.filter(isUrl));
      return done;
    },
    failAll(error) {
      for (const finisher of finishers.values()) finisher(error);
      finishers.clear();
    },
    end() {
      files.end();
      urls.end();
    },
  };
}
