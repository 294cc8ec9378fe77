/**
 * The event loop of a shell around a pure `step`: an event raised while effects run (an effect may
 * raise one) waits its turn, so the step is never re-entered and events are handled in the order
 * raised; once the shell is closed, waiting events are dropped.
 */

/**
 * `handle` wrapped so that calls made while it runs are queued and handled after it, in order;
 * `isClosed` is asked before each one, and `settle` runs once the queue is drained (or a handler threw).
 */
export function serialDispatch<E>(
  handle: (event: E) => void,
  isClosed: () => boolean,
  settle?: () => void,
): (event: E) => void {
  const queue: E[] = [];
  let running = false;
  return (event) => {
    queue.push(event);
    if (running) return;
    running = true;
    try {
      for (let next = queue.shift(); next !== undefined && !isClosed(); next = queue.shift()) handle(next);
    } finally {
      running = false;
      queue.length = 0;
      settle?.();
    }
  };
}
