/**
 * The order outcomes leave a `classify` subscription in. Unordered: as they come. Ordered: by their
 * input position, holding those that come early until every earlier one has left; the window of
 * `classify` counts held outcomes as in flight, which bounds what is held.
 */
export function createOrderBuffer<T>(ordered: boolean, emit: (value: T) => void) {
  const held = new Map<number, T>();
  let next = 0;

  const flush = (): void => {
    // Re-entrant safe: the position advances before each emit, so a nested flush continues from there.
    while (held.has(next)) {
      const value = held.get(next) as T;
      held.delete(next);
      next += 1;
      emit(value);
    }
  };

  return {
    /** Hands over the outcome for input position `seq` (each position exactly once). */
    push(seq: number, value: T): void {
      if (!ordered) {
        emit(value);
        return;
      }
      held.set(seq, value);
      flush();
    },
    /** Outcomes held back until an earlier one arrives. */
    get size(): number {
      return held.size;
    },
  };
}
