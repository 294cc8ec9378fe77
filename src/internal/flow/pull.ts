/**
 * Pulling a source's entries one per credit: the iterator (synchronous or not) is advanced only
 * while `claim()` grants one more entry, synchronously for a synchronous iterable (so marble tests
 * drive it with `cold()` reads), one `next()` at a time for an asynchronous one. `close()` stops it
 * and closes the iterator (`return()`) unless it already ended.
 */
import { trampoline } from './trampoline.js';

/** What {@link fromPulled} may pull from: anything iterable, synchronously or not. */
export type Pullable<E> = Iterable<E> | AsyncIterable<E>;

export interface PullHandlers<E> {
  /** Whether one more entry may be pulled now; takes what that costs when it says yes. */
  readonly claim: () => boolean;
  /** An entry pulled, with its position in the iterable. */
  readonly entry: (entry: E, index: number) => void;
  /** The iterable ended (`error`: it threw). */
  readonly end: (error?: { readonly error: unknown }) => void;
}

export interface Puller {
  /** Pulls while `claim()` grants entries; a call made while pulling asks for one more pass. */
  pump(): void;
  close(): void;
  /** Entries pulled so far. */
  readonly pulled: number;
  readonly exhausted: boolean;
}

export function createPuller<E>(source: Pullable<E>, handlers: PullHandlers<E>): Puller {
  const iterator: Iterator<E> | AsyncIterator<E> =
    Symbol.asyncIterator in source
      ? (source as AsyncIterable<E>)[Symbol.asyncIterator]()
      : (source as Iterable<E>)[Symbol.iterator]();
  let pulled = 0;
  let pulling = false;
  let exhausted = false;
  let closed = false;

  const finish = (error?: { error: unknown }): void => {
    exhausted = true;
    handlers.end(error);
  };
  const took = (result: IteratorResult<E>): void => {
    if (result.done) finish();
    else handlers.entry(result.value, pulled++);
  };
  const step = (): void => {
    while (!closed && !exhausted && !pulling && handlers.claim()) {
      pulling = true;
      let result: IteratorResult<E> | Promise<IteratorResult<E>>;
      try {
        result = iterator.next();
      } catch (error) {
        pulling = false;
        finish({ error });
        return;
      }
      if (!isPromiseLike(result)) {
        pulling = false;
        took(result);
        continue;
      }
      result.then(
        (value) => {
          pulling = false;
          if (closed) return;
          took(value);
          pump();
        },
        (error: unknown) => {
          pulling = false;
          if (!closed) finish({ error });
        },
      );
      return;
    }
  };
  const pump = trampoline(step, () => closed);

  return {
    pump: () => void pump(),
    close: () => {
      if (closed) return;
      closed = true;
      if (!exhausted) closeIterator(iterator);
    },
    get pulled() {
      return pulled;
    },
    get exhausted() {
      return exhausted;
    },
  };
}

function closeIterator<E>(iterator: Iterator<E> | AsyncIterator<E>): void {
  try {
    const returned = iterator.return?.();
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
