/**
 * A feed: an async iterable that values are pushed into, read by one consumer (a source of the
 * worker's long-lived pipeline). Values wait in a plain array; the worker bounds them by taking at
 * most K chunks at once.
 */

export interface Feed<T> extends AsyncIterable<T> {
  push(values: readonly T[]): void;
  /** No more values: the consumer finishes once it has read those pushed. */
  end(): void;
}

export function createFeed<T>(): Feed<T> {
  const values: T[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  return {
    push(more) {
      if (ended || more.length === 0) return;
      values.push(...more);
      notify();
    },
    end() {
      ended = true;
      notify();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const next = values.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}
