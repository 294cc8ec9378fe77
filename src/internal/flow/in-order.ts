/**
 * The re-ordering step after `mergeMap`: values tagged with their position in source order are
 * emitted in that order, each as soon as every value before it was. Not re-entered: a value that
 * arrives while one is being emitted waits for the running loop.
 */
import { Observable, type OperatorFunction } from 'rxjs';

/** A value and its position in source order (0, 1, 2 ... each exactly once). */
export interface Placed<T> {
  readonly index: number;
  readonly value: T;
}

export function inOrder<T>(): OperatorFunction<Placed<T>, T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const waiting = new Map<number, T>();
      let next = 0;
      let emitting = false;
      return source.subscribe({
        next: ({ index, value }) => {
          waiting.set(index, value);
          if (emitting) return;
          emitting = true;
          try {
            while (waiting.has(next) && !subscriber.closed) {
              const head = waiting.get(next) as T;
              waiting.delete(next);
              next += 1;
              subscriber.next(head);
            }
          } finally {
            emitting = false;
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}
