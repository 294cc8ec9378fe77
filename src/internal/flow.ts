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
 * after `windowStallWarnMs` the source reports a `WindowStallEvent` (see `flow-stall.ts`).
 */
import {
  Observable,
  asyncScheduler,
  defaultIfEmpty,
  from,
  mergeMap,
  take,
  type ObservableInput,
  type Observer,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { AthenaError } from '../errors.js';
import { toFailure, type ItemOrFailure, type Lease } from '../model.js';
import { sourceImageTraces, traceClock, type StartImageTrace } from '../telemetry/image-trace.js';
import type { ImageTelemetrySetup } from '../telemetry/options.js';
import { DEFAULT_WINDOW_STALL_WARN_MS, stallWatch, type SourceEvent } from './flow-stall.js';
import { trampoline } from './trampoline.js';
import { assertInteger } from './validate.js';

/** Items read and not yet released, per subscription, when a source is not told otherwise. */
export const DEFAULT_WINDOW = 32;

/** What a skipped entry settles as: it holds its place in source order and emits nothing. */
const SKIPPED: unique symbol = Symbol('skipped');
type Settled = ItemOrFailure | typeof SKIPPED;

/** What {@link fromPulled} may pull from: anything iterable, synchronously or not. */
export type Pullable<E> = Iterable<E> | AsyncIterable<E>;

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
    const reads = new Set<Subscription>();
    const results = new Map<number, Settled>();
    let iterator: Iterator<E> | AsyncIterator<E> | undefined;
    let credits = window;
    let reading = 0;
    let pulled = 0;
    let emitted = 0;
    let pulling = false;
    let held = 0;
    let exhausted = false;
    let failed: { error: unknown } | undefined;
    let closed = false;
    const pump = trampoline(
      () => step(),
      () => closed,
    );
    let flushing = false;
    let known: { readonly length: number } | { readonly size: number } | undefined;
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
      if (!closed) watch.update(!exhausted && held >= window);
    };
    const origin: NonNullable<Lease['source']> = {
      unread: () => {
        if (exhausted && !failed) return 0;
        if (known === undefined) return undefined;
        return Math.max(0, ('length' in known ? known.length : known.size) - pulled);
      },
    };

    const lease = (): Lease => {
      let holding = true;
      held += 1;
      return {
        release: () => {
          if (!holding) return;
          holding = false;
          held -= 1;
          credits += 1;
          pump();
          watchStall();
        },
        source: origin,
      };
    };

    const finish = (): void => {
      if (closed || flushing || !exhausted || pulling || reading > 0 || results.size > 0) return;
      closed = true;
      if (failed) subscriber.error(failed.error);
      else subscriber.complete();
    };

    // Emits the results that are next in source order. Not re-entered: a lease released (or a read
    // settled) while a value is being emitted adds to `results`, which this loop picks up in order.
    const flush = (): void => {
      if (flushing) return;
      flushing = true;
      try {
        for (let value = results.get(emitted); value !== undefined && !closed; value = results.get(emitted)) {
          results.delete(emitted);
          emitted += 1;
          // A skipped entry emits nothing: its credit comes back at once (`settle` pumps after this).
          if (value === SKIPPED) credits += 1;
          else subscriber.next({ ...value, lease: lease() });
        }
      } finally {
        flushing = false;
      }
      finish();
      watchStall();
    };

    const settleRead = (index: number, value: Settled): void => {
      reading -= 1;
      results.set(index, value);
      flush();
      pump();
    };

    const startRead = (entry: E, index: number): void => {
      reading += 1;
      let done = false;
      const settle = traces === undefined ? settleRead : traced(traces, traceClock(), settleRead);
      const fail = (error: unknown): ItemOrFailure =>
        toFailure(
          { ref: typeof entry === 'string' ? entry : `#${index}`, index },
          'read',
          AthenaError.from(error, 'READ_FAILED'),
        );
      let subscription: Subscription | undefined;
      try {
        subscription = from(readOrSkip(entry, index)).subscribe({
          next: (value) => {
            if (done) return;
            done = true;
            subscription?.unsubscribe();
            settle(index, value);
          },
          error: (error: unknown) => {
            if (done) return;
            done = true;
            settle(index, fail(error));
          },
          complete: () => {
            if (done) return;
            done = true;
            settle(index, fail(new Error('the read produced no item')));
          },
        });
      } catch (error) {
        if (!done) {
          done = true;
          settle(index, fail(error));
        }
      }
      if (done) subscription?.unsubscribe();
      else if (subscription) {
        reads.add(subscription);
        subscription.add(() => reads.delete(subscription));
      }
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

    const endIteration = (error?: { error: unknown }): void => {
      exhausted = true;
      failed = error;
      credits += 1;
      finish();
    };

    const onPulled = (result: IteratorResult<E>): void => {
      if (result.done) endIteration();
      else startRead(result.value, pulled++);
    };

    const step = (): void => {
      while (!closed && !exhausted && !pulling && credits > 0 && reading < concurrency && iterator) {
        credits -= 1;
        pulling = true;
        let result: IteratorResult<E> | Promise<IteratorResult<E>>;
        try {
          result = iterator.next();
        } catch (error) {
          pulling = false;
          endIteration({ error });
          return;
        }
        if (isPromiseLike(result)) {
          result.then(
            (value) => {
              pulling = false;
              if (closed) return;
              onPulled(value);
              pump();
            },
            (error: unknown) => {
              pulling = false;
              if (!closed) endIteration({ error });
            },
          );
          return;
        }
        pulling = false;
        onPulled(result);
      }
    };

    try {
      const source = open();
      known = Array.isArray(source) ? source : source instanceof Set ? source : undefined;
      iterator =
        Symbol.asyncIterator in source
          ? (source as AsyncIterable<E>)[Symbol.asyncIterator]()
          : (source as Iterable<E>)[Symbol.iterator]();
    } catch (error) {
      subscriber.error(error);
      return undefined;
    }
    pump();

    return () => {
      closed = true;
      watch.end();
      controller.abort();
      for (const subscription of [...reads]) subscription.unsubscribe();
      results.clear();
      if (!exhausted) closeIterator(iterator);
    };
  });
}

/** `settle`, giving each value read a trace that began at `readAt`, with its read as first step. */
function traced(
  start: StartImageTrace,
  readAt: number,
  settle: (index: number, value: Settled) => void,
): (index: number, value: Settled) => void {
  return (index, value) => {
    if (value === SKIPPED) return settle(index, value);
    const trace = start(value.ref, readAt);
    trace.phase('read', readAt, value.kind === 'failure' ? value.error.code : undefined);
    settle(index, { ...value, trace });
  };
}

function closeIterator<E>(iterator: Iterator<E> | AsyncIterator<E> | undefined): void {
  try {
    const returned = iterator?.return?.();
    if (isPromiseLike(returned)) returned.then(undefined, () => undefined);
  } catch {
    // A failing return() changes nothing for a subscription that is already over.
  }
}

function isPromiseLike<T>(value: unknown): value is PromiseLike<T> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}
