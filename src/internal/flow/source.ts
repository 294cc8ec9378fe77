/**
 * Flow control for sources: a credit window between reading bytes and emitting outcomes.
 *
 * RxJS pushes, and images are large, so a source that read as fast as the disk or the network
 * allows would fill memory long before the service answered. Every athena-rx source is therefore an
 * iterable underneath, pulled by {@link fromPulled}:
 *
 * - A subscription starts with `window` credits. Pulling the next entry from the iterable (and then
 *   reading its bytes) takes one credit; no entry is pulled while no credit is left.
 * - Every emitted `ImageItem` or `ItemFailure` carries a {@link Lease}. Releasing it gives its
 *   credit back, and the source pulls exactly one more entry. Releasing twice is harmless.
 * - The lease travels with the item: operators build new items with object spreads or `toFailure()`,
 *   both of which keep it. `classify` releases a value's lease right after it emits that value's
 *   outcome; a pipeline without `classify` ends with `releaseLeases()`.
 * - At most `concurrency` reads run at once; values are emitted in source order.
 * - A `skip` predicate can leave an entry out before it is read: it keeps its index (items carry
 *   their position in the source), emits nothing and gives its credit back at once.
 * - Unsubscribing stops pulling, aborts the reads in flight and closes the iterator (`return()`), so
 *   a directory walk or a stream ends there.
 *
 * Hence at any time at most `window` items have been read and not yet released, whatever the size
 * of the source.
 *
 * The pitfall: a credit only comes back when someone releases the lease. An item dropped on the way
 * (a user's `filter`, `take`, `toArray()` without `releaseLeases()` before it, an outcome that is
 * consumed but never released) keeps its credit, and after `window` such items the source waits
 * forever. Drop items with `tap((v) => v.lease?.release())` before the `filter`, or put
 * `releaseLeases()` where values leave the part of the pipeline that holds memory.
 *
 * Such a wait is never silent: while the whole window is held, a timer on the source's scheduler
 * keeps the process alive (the source neither completes nor lets Node exit with inputs unread), and
 * after `windowStallWarnMs` the source reports a `WindowStallEvent` (see `stall.ts`).
 */
import {
  Observable,
  asyncScheduler,
  catchError,
  defaultIfEmpty,
  defer,
  finalize,
  from,
  map,
  mergeMap,
  of,
  take,
  throwIfEmpty,
  type ObservableInput,
  type Observer,
  type SchedulerLike,
} from 'rxjs';
import { AthenaError } from '../../errors.js';
import { toFailure, type ItemOrFailure } from '../../model.js';
import { assertInteger } from '../core/validate.js';
import { createCredits } from './credits.js';
import { inOrder, type Placed } from './in-order.js';
import { createPuller, type Pullable, type Puller } from './pull.js';
import { DEFAULT_WINDOW_STALL_WARN_MS, stallWatch, type SourceEvent } from './stall.js';
import { sourceImageTraces, traceClock, type StartImageTrace } from '../../telemetry/image-trace.js';
import type { ImageTelemetrySetup } from '../../telemetry/options.js';

/** Items read and not yet released, per subscription, when a source is not told otherwise. */
export const DEFAULT_WINDOW = 32;

/** What a skipped entry settles as: it holds its place in source order and emits nothing. */
const SKIPPED: unique symbol = Symbol('skipped');
type Settled = ItemOrFailure | typeof SKIPPED;

export type { Pullable };

/**
 * Reads one entry into an item or a failure. Gets the entry's position in the source and a signal
 * aborted when the subscription ends. Should not throw; anything it throws becomes a `read` failure.
 */
export type ReadEntry<E> = (entry: E, index: number, signal: AbortSignal) => ObservableInput<ItemOrFailure>;

/**
 * Decides from an input's `ref` alone, before any of its bytes are read, that the input is left out
 * (it was done in an earlier run, say). Answers at once or later (a Promise or an Observable whose
 * first value counts; none counts as `false`). A skipped input gives no value at all; what it
 * throws or rejects with gives a `read` failure for that input.
 */
export type SkipRef = (ref: string) => boolean | ObservableInput<boolean>;

/** The `skip` option of the sources that list their inputs (`fromFiles`, `fromDirectory`, `fromUrls`). */
export interface SkipOptions {
  /** Leave out the inputs whose `ref` this answers `true` for, before reading them. Default: none. */
  readonly skip?: SkipRef;
}

/** Validates `skip`; throws TypeError. */
export function skipOption(value: unknown): SkipRef | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new TypeError('skip must be a function of a ref');
  return value as SkipRef;
}

export interface PullOptions<E = unknown> {
  /** Leaves an entry out before it is read: it takes no read, emits nothing and gives its credit back. */
  readonly skip?: ((entry: E) => boolean | ObservableInput<boolean>) | undefined;
  /** Items read and not yet released at any time (>= 1). */
  readonly window: number;
  /** Reads running at once (>= 1). */
  readonly concurrency: number;
  /** See `SourceFlowOptions`; default {@link DEFAULT_WINDOW_STALL_WARN_MS}. */
  readonly windowStallWarnMs?: number;
  readonly events?: Partial<Observer<SourceEvent>> | undefined;
  /** Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Where each value's trace goes (see `ImageTrace`); none by default. */
  readonly telemetry?: ImageTelemetrySetup;
}

/** Validates `window` (default {@link DEFAULT_WINDOW}); throws TypeError/RangeError. */
export function windowOption(value: unknown, fallback = DEFAULT_WINDOW): number {
  return value === undefined ? fallback : assertInteger('window', value, 1);
}

/** Validates `concurrency` (default `fallback`); throws TypeError/RangeError. */
export function concurrencyOption(value: unknown, fallback: number): number {
  return value === undefined ? fallback : assertInteger('concurrency', value, 1);
}

/** Whether a value can be pulled by {@link fromPulled}. */
export function isPullable(value: unknown): value is Pullable<unknown> {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  const candidate = value as Partial<Record<symbol, unknown>>;
  return (
    typeof candidate[Symbol.iterator] === 'function' || typeof candidate[Symbol.asyncIterator] === 'function'
  );
}

/**
 * A cold Observable of items read from the entries of an iterable under a credit window. `open`
 * is called on each subscription (so nothing happens before subscribe), `read` for each pulled
 * entry. A synchronous iterable is pulled synchronously, so marble tests can drive it with `cold()`
 * reads. An error thrown by the iterable itself ends the Observable with that error, after the
 * reads already started have been emitted.
 *
 * Three parts: the {@link createCredits | credits} of the window, released by leases; a
 * {@link createPuller | puller} that takes one entry per credit while fewer than `concurrency`
 * reads run; and `mergeMap` over the reads with an {@link inOrder} step that restores source order.
 */
export function fromPulled<E>(
  open: () => Pullable<E>,
  read: ReadEntry<E>,
  options: PullOptions<E>,
): Observable<ItemOrFailure> {
  const { window, concurrency, skip } = options;
  const warnMs = options.windowStallWarnMs ?? DEFAULT_WINDOW_STALL_WARN_MS;
  const scheduler = options.scheduler ?? asyncScheduler;
  return new Observable<ItemOrFailure>((subscriber) => {
    const controller = new AbortController();
    // Undefined when nothing records traces: a read then costs one branch more.
    const traces = options.telemetry && sourceImageTraces(options.telemetry);
    let reading = 0;
    let closed = false;
    let failed: { error: unknown } | undefined;
    let known: { readonly length: number } | { readonly size: number } | undefined;
    let puller: Puller | undefined;
    const watch = stallWatch({
      window,
      warnMs,
      scheduler,
      events: options.events,
      fail: (error) => {
        if (closed) return;
        closed = true;
        subscriber.error(error);
      },
    });
    // Every credit held by a value emitted and not released: nothing will happen until one comes back.
    const watchStall = (): void => {
      if (!closed) watch.update(!puller?.exhausted && credits.held >= window);
    };
    const pump = (): void => puller?.pump();
    const credits = createCredits(
      window,
      {
        unread: () => {
          if (puller?.exhausted && !failed) return 0;
          if (known === undefined || puller === undefined) return undefined;
          return Math.max(0, ('length' in known ? known.length : known.size) - puller.pulled);
        },
      },
      () => {
        pump();
        watchStall();
      },
    );

    // mergeMap calls this as the read starts, so a trace's read step begins here.
    const readOne = (entry: E, index: number): Observable<Placed<Settled>> => {
      const readAt = traces === undefined ? 0 : traceClock();
      return defer(() => readOrSkip(entry, index)).pipe(
        take(1),
        throwIfEmpty(() => new Error('the read produced no item')),
        catchError((error: unknown) => of(readFailure(entry, index, error))),
        map((value): Placed<Settled> => {
          reading -= 1;
          return { index, value: traces === undefined ? value : traced(traces, readAt, value) };
        }),
        // After the value went out: the stall watch sees the window as it now is, and a read slot is free.
        finalize(() => {
          watchStall();
          pump();
        }),
      );
    };

    const readOrSkip = (entry: E, index: number): ObservableInput<Settled> => {
      const decision = skip === undefined ? false : skip(entry);
      if (decision === true) return [SKIPPED as Settled];
      if (decision === false) return read(entry, index, controller.signal);
      return from(decision).pipe(
        take(1),
        defaultIfEmpty(false),
        mergeMap((skipped): ObservableInput<Settled> =>
          skipped === true ? [SKIPPED] : read(entry, index, controller.signal),
        ),
      );
    };

    const entries = new Observable<{ entry: E; index: number }>((pulled) => {
      let source: Pullable<E>;
      try {
        source = open();
        known = Array.isArray(source) ? source : source instanceof Set ? source : undefined;
        puller = createPuller(source, {
          claim: () => reading < concurrency && credits.take(),
          entry: (entry, index) => {
            reading += 1;
            pulled.next({ entry, index });
          },
          end: (error) => {
            failed = error;
            credits.giveBack(); // the credit of the pull that found the end
            pulled.complete();
          },
        });
      } catch (error) {
        pulled.error(error);
        return undefined;
      }
      puller.pump();
      return () => puller?.close();
    });

    const subscription = entries
      .pipe(
        mergeMap(({ entry, index }) => readOne(entry, index), concurrency),
        inOrder(),
        // A skipped entry emits nothing and gives its credit back when its turn in source order comes.
        mergeMap((value): ObservableInput<ItemOrFailure> => {
          if (value !== SKIPPED) return [{ ...value, lease: credits.lease() }];
          credits.giveBack();
          return [];
        }),
      )
      .subscribe({
        next: (value) => subscriber.next(value),
        error: (error: unknown) => {
          closed = true;
          subscriber.error(error);
        },
        complete: () => {
          closed = true;
          if (failed) subscriber.error(failed.error);
          else subscriber.complete();
        },
      });

    return () => {
      closed = true;
      watch.end();
      controller.abort();
      puller?.close();
      subscription.unsubscribe();
    };
  });
}

/** The value read, given a trace that began at `readAt`, with its read as first step. */
function traced(start: StartImageTrace, readAt: number, value: Settled): Settled {
  if (value === SKIPPED) return value;
  const trace = start(value.ref, readAt);
  trace.phase('read', readAt, value.kind === 'failure' ? value.error.code : undefined);
  return { ...value, trace };
}

function readFailure<E>(entry: E, index: number, error: unknown): ItemOrFailure {
  return toFailure(
    { ref: typeof entry === 'string' ? entry : `#${index}`, index },
    'read',
    AthenaError.from(error, 'READ_FAILED'),
  );
}
