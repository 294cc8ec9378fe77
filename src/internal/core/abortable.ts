import { from, Observable, type ObservableInput } from 'rxjs';

/**
 * Runs abortable work as a cold Observable: nothing starts before subscribe, and unsubscribing before
 * the work has settled (first value, error or completion) aborts the signal handed to it. Work that
 * already delivered is left alone, so an abort never races a result that arrived.
 */
export function abortable<T>(run: (signal: AbortSignal) => ObservableInput<T>): Observable<T> {
  return new Observable<T>((subscriber) => {
    const controller = new AbortController();
    let settled = false;
    const subscription = from(run(controller.signal)).subscribe({
      next: (value) => {
        settled = true;
        subscriber.next(value);
      },
      error: (error: unknown) => {
        settled = true;
        subscriber.error(error);
      },
      complete: () => {
        settled = true;
        subscriber.complete();
      },
    });
    return () => {
      subscription.unsubscribe();
      if (!settled) controller.abort();
    };
  });
}
