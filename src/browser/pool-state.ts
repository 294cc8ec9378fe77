/**
 * The worker pool of the browser `resize` as explicit state and a pure transition function: jobs
 * wait in a queue, each worker runs one job at a time, workers are started lazily up to the pool's
 * size, a worker that fails is dropped (its job fails) and replaced on demand, and closing ends every
 * worker. `worker-pool.ts` runs the effects.
 */

export interface PoolState {
  readonly size: number;
  /** Ids of the workers started and not ended. */
  readonly workers: readonly number[];
  readonly idle: readonly number[];
  /** Which job each busy worker runs. */
  readonly running: ReadonlyMap<number, number>;
  /** Jobs waiting for a worker, oldest first. */
  readonly queue: readonly number[];
  readonly nextWorker: number;
  readonly closed: boolean;
}

export type PoolEvent =
  | { readonly type: 'submit'; readonly job: number }
  /** A queued job is no longer wanted (a running one simply runs to its reply). */
  | { readonly type: 'cancel'; readonly job: number }
  | { readonly type: 'replied'; readonly worker: number }
  | { readonly type: 'crashed'; readonly worker: number }
  | { readonly type: 'close' };

export type PoolEffect =
  | { readonly type: 'spawn'; readonly worker: number }
  | { readonly type: 'send'; readonly worker: number; readonly job: number }
  /** The job's worker failed while running it. */
  | { readonly type: 'fail'; readonly job: number; readonly worker: number }
  | { readonly type: 'terminate'; readonly worker: number };

/** A pool of at most `size` workers, none started. */
export function initialPool(size: number): PoolState {
  return { size, workers: [], idle: [], running: new Map(), queue: [], nextWorker: 0, closed: false };
}

/** The state after `event`, and the effects to run for it (in order). */
export function poolStep(state: PoolState, event: PoolEvent): [PoolState, PoolEffect[]] {
  if (state.closed) return [state, []];
  switch (event.type) {
    case 'submit':
      return dispatch({ ...state, queue: [...state.queue, event.job] }, []);
    case 'cancel':
      return [{ ...state, queue: state.queue.filter((job) => job !== event.job) }, []];
    case 'replied': {
      if (!state.running.has(event.worker)) return [state, []];
      const running = new Map(state.running);
      running.delete(event.worker);
      return dispatch({ ...state, running, idle: [...state.idle, event.worker] }, []);
    }
    case 'crashed': {
      if (!state.workers.includes(event.worker)) return [state, []];
      const job = state.running.get(event.worker);
      const running = new Map(state.running);
      running.delete(event.worker);
      const next = {
        ...state,
        running,
        workers: state.workers.filter((w) => w !== event.worker),
        idle: state.idle.filter((w) => w !== event.worker),
      };
      const effects: PoolEffect[] = [];
      if (job !== undefined) effects.push({ type: 'fail', job, worker: event.worker });
      effects.push({ type: 'terminate', worker: event.worker });
      return dispatch(next, effects);
    }
    case 'close':
      return [
        { ...initialPool(state.size), nextWorker: state.nextWorker, closed: true },
        state.workers.map((worker) => ({ type: 'terminate', worker })),
      ];
  }
}

/** Hands queued jobs to idle workers, starting workers while under the size. */
function dispatch(state: PoolState, effects: PoolEffect[]): [PoolState, PoolEffect[]] {
  let { workers, idle, queue, nextWorker } = state;
  const running = new Map(state.running);
  while (queue.length > 0 && (idle.length > 0 || workers.length < state.size)) {
    const job = queue[0]!;
    queue = queue.slice(1);
    let worker: number;
    if (idle.length > 0) {
      worker = idle[0]!;
      idle = idle.slice(1);
    } else {
      worker = nextWorker++;
      workers = [...workers, worker];
      effects.push({ type: 'spawn', worker });
    }
    running.set(worker, job);
    effects.push({ type: 'send', worker, job });
  }
  return [{ ...state, workers, idle, queue, nextWorker, running }, effects];
}
