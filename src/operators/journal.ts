import {
  asyncScheduler,
  catchError,
  concat,
  concatMap,
  defaultIfEmpty,
  defer,
  EMPTY,
  from,
  ignoreElements,
  map,
  merge,
  of,
  Observable,
  ReplaySubject,
  take,
  throwError,
  type MonoTypeOperatorFunction,
  type ObservableInput,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { AthenaError } from '../errors.js';
import type { Outcome } from '../model.js';
import { openAppend, sourceFacts, writerStep as once, type JournalWriter } from '../internal/journal/io.js';
import { journalLine, journalRecord, type SourceFacts } from '../internal/journal/record.js';
import { INITIAL_SYNC_STATE, syncStep, type SyncInput } from '../internal/journal/sync.js';
import { assertFunction, assertInteger, assertString } from '../internal/core/validate.js';

export type { JournalWriter };

export interface JournalOptions {
  /** Longest time, in ms, an appended line waits before the file is synced to disk. Default 1,000. */
  readonly syncIntervalMs?: number;
  /** Where the sync timer runs. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Opens `path` for appending (see `JournalWriter`). Default: Node's `fs`, creating the file if need be. */
  readonly open?: (path: string) => ObservableInput<JournalWriter>;
  /** The source facts of a ref. Default: a file's size and mtime (`stat`), a URL without its query. */
  readonly facts?: (ref: string) => ObservableInput<SourceFacts | undefined>;
}

/**
 * Appends each outcome to a journal file as one JSON line, then passes it on: the file always holds
 * every outcome emitted so far, and a run killed at any moment can be resumed with `openJournal`.
 *
 * ```text
 * syncIntervalMs 4; c classified, f failed
 * source:  -c-----f--|
 * output:  -c-----f--|     a line per outcome, written before it passes on; synced at 5 and at the end
 * ```
 *
 * A line holds the outcome's `ref`, the source facts (a file's size and modification time, read
 * when the line is written; for a URL its ref without the query), the outcome (labels, or the
 * failure's stage, code and message) and the original bytes' digests when `outcome.meta.digests`
 * holds them (see `JournalRecord`). Each line is written whole as the outcome arrives; the file is
 * synced to disk at most `syncIntervalMs` after a line, and once more before the stream completes
 * or errors. A file that cannot be opened or written ends the stream with `WRITE_FAILED`.
 * Unsubscribing syncs and closes the file without waiting. State and timer are per subscription;
 * two subscriptions append to the same file.
 *
 * @example
 * ```ts
 * import { openJournal, fromDirectory } from 'athena-rx/sources';
 * import { journal } from 'athena-rx/operators';
 *
 * const done = await openJournal('results.jsonl');
 * fromDirectory('./inbox', { skip: done.skip }).pipe(...pipeline, journal('results.jsonl'));
 * ```
 *
 * @param path - the journal file; created when missing, appended to otherwise.
 * @param options - `syncIntervalMs` (1,000), `scheduler`, `open`, `facts`.
 */
export function journal(path: string, options: JournalOptions = {}): MonoTypeOperatorFunction<Outcome> {
  assertString('path', path);
  const intervalMs =
    options.syncIntervalMs === undefined ? 1_000 : assertInteger('syncIntervalMs', options.syncIntervalMs, 1);
  const scheduler = options.scheduler ?? asyncScheduler;
  assertFunction('scheduler.schedule', scheduler.schedule);
  const open =
    options.open === undefined ? openAppend : assertFunction<typeof openAppend>('open', options.open);
  const facts =
    options.facts === undefined ? sourceFacts : assertFunction<typeof sourceFacts>('facts', options.facts);
  return (source) =>
    new Observable<Outcome>((subscriber) => {
      let state = INITIAL_SYNC_STATE;
      let timer: Subscription | undefined;
      let file: JournalWriter | undefined;
      const fail = (error: unknown): void => subscriber.error(error);
      // Runs the effects of one input; the syncs it asks for come back to be waited for (or not).
      const run = (input: SyncInput): Observable<unknown> => {
        const next = syncStep(state, input, intervalMs);
        state = next.state;
        const syncs: Observable<unknown>[] = [];
        for (const effect of next.effects) {
          if (effect.type === 'arm') {
            timer = scheduler.schedule(() => {
              timer = undefined;
              run({ type: 'timer' }).subscribe({ error: fail });
            }, effect.delayMs);
          } else if (effect.type === 'disarm') {
            timer?.unsubscribe();
            timer = undefined;
          } else if (file !== undefined) syncs.push(once(file.sync()));
        }
        return syncs.length === 0 ? EMPTY : merge(...syncs);
      };
      const finish = (opened: JournalWriter): Observable<never> =>
        concat(
          run({ type: 'end' }),
          defer(() => once(opened.close())),
        ).pipe(ignoreElements());
      const append = (opened: JournalWriter, outcome: Outcome): Observable<Outcome> =>
        from(facts(outcome.ref)).pipe(
          take(1),
          defaultIfEmpty(undefined),
          catchError(() => of(undefined)),
          concatMap((known) => once(opened.append(journalLine(journalRecord(outcome, known ?? undefined))))),
          map(() => {
            run({ type: 'appended' });
            return outcome;
          }),
        );
      // The source is subscribed to at once (a hot source loses nothing); lines wait for the file.
      const opened$ = new ReplaySubject<JournalWriter>(1);
      const withFile = <T>(work: (opened: JournalWriter) => Observable<T>): Observable<T> =>
        opened$.pipe(take(1), concatMap(work));
      // Not cancelled on unsubscribe: a file opened after that is closed again at once.
      from(open(path))
        .pipe(take(1))
        .subscribe({
          next: (opened) => {
            if (subscriber.closed) return void once(opened.close()).subscribe({ error: () => undefined });
            file = opened;
            opened$.next(opened);
          },
          error: (error: unknown) => opened$.error(AthenaError.from(error, 'WRITE_FAILED')),
        });
      const inner = concat(
        source.pipe(
          concatMap((outcome) => withFile((opened) => append(opened, outcome))),
          catchError((error: unknown) =>
            concat(
              file === undefined ? EMPTY : finish(file),
              throwError(() => error),
            ),
          ),
        ),
        defer(() => withFile(finish)),
      ).subscribe(subscriber);
      return () => {
        inner.unsubscribe();
        if (file === undefined || state.over) return;
        finish(file).subscribe({ error: () => undefined });
      };
    });
}
