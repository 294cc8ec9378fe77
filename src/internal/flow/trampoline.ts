/**
 * A re-entrancy guard for state machines driven from callbacks: calling the returned function runs
 * `step` until a pass asks for no further one; a call made while `step` is running (a synchronous
 * emission reacting back) only asks the running loop for one more pass instead of nesting. Stops
 * early once `isClosed()` is true. Returns true when this call ran the loop, false when it only
 * asked the running one for another pass.
 */
export function trampoline(step: () => void, isClosed: () => boolean): () => boolean {
  let running = false;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return false;
    }
    running = true;
    try {
      do {
        again = false;
        step();
      } while (again && !isClosed());
    } finally {
      running = false;
    }
    return true;
  };
}
