/**
 * The stall watch of a source's credit window: the events a source reports, and the protocol that
 * decides when a full window is a stall worth reporting, as a state, a pure `stallStep` and a thin
 * shell running its effects (arm a timer, disarm it, warn) on a scheduler.
 *
 * While every credit is held by a value emitted and not yet released, a source reads nothing and
 * nothing of its own is pending, so without a timer Node would see no work left and exit in the
 * middle of the run. The armed timer is that work: it keeps the process alive while the source
 * waits, and after `warnMs` it reports the stall once. It is disarmed as soon as a credit comes
 * back, and for good when the subscription ends (complete, error or unsubscribe). Also here: the
 * options every source takes for it, and their validation.
 */
import { asyncScheduler, type Observer, type SchedulerLike, type Subscription } from 'rxjs';
import { MAX_TIMER_MS } from '../core/limits.js';
import { assertFunction, assertInteger } from '../core/validate.js';

/** Reported by a source whose window stayed full, with nothing released, for `windowStallWarnMs`. */
export interface WindowStallEvent {
  readonly type: 'window-stall';
  /** Values emitted by the source and not yet released: the whole window. */
  readonly held: number;
  /** The window of the source. */
  readonly window: number;
  /** How long nothing has been released, in milliseconds. */
  readonly stalledMs: number;
  /** A sentence for people, naming the likely cause. */
  readonly message: string;
}

/** What a source reports to the `events` observer of its options. */
export type SourceEvent = WindowStallEvent;

/** How long a source's window may stay full, nothing released, before it reports a stall. */
export const DEFAULT_WINDOW_STALL_WARN_MS = 30_000;

/** The flow-control options every source takes. */
export interface SourceFlowOptions {
  /** Items read and not yet released at any time (see `releaseLeases`). Default 32. */
  readonly window?: number;
  /**
   * Milliseconds the window may stay full, with no value released, before the source reports a
   * `WindowStallEvent` to `events`. Default 30,000; 0 turns the report off. Whatever this says,
   * a source waiting for credits keeps the process alive: it never completes, nor lets Node exit,
   * while it has inputs it has not read.
   */
  readonly windowStallWarnMs?: number;
  /** Receives what the source reports: today the `WindowStallEvent`. Should not throw. */
  readonly events?: Partial<Observer<SourceEvent>>;
  /** Where the stall timer runs and time is read. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** Validates the {@link SourceFlowOptions} other than `window`; throws TypeError/RangeError. */
export function stallOptions(options: SourceFlowOptions): {
  readonly windowStallWarnMs: number;
  readonly events: Partial<Observer<SourceEvent>> | undefined;
  readonly scheduler: SchedulerLike;
} {
  const { windowStallWarnMs = DEFAULT_WINDOW_STALL_WARN_MS, events, scheduler = asyncScheduler } = options;
  assertInteger('windowStallWarnMs', windowStallWarnMs, 0, MAX_TIMER_MS);
  if (events !== undefined) {
    if (typeof events !== 'object' || events === null) throw new TypeError('events must be an observer');
    if (events.next !== undefined) assertFunction('events.next', events.next);
  }
  assertFunction('scheduler.schedule', scheduler?.schedule);
  assertFunction('scheduler.now', scheduler?.now);
  return { windowStallWarnMs, events, scheduler };
}

/** Re-arm period of the timer that keeps the process alive once the stall is reported (1 hour). */
export const STALL_KEEP_ALIVE_MS = 3_600_000;

export type StallState =
  | { readonly phase: 'flowing' }
  | { readonly phase: 'stalled'; readonly since: number; readonly warned: boolean }
  | { readonly phase: 'over' };

export type StallInput =
  | { readonly type: 'full'; readonly now: number }
  | { readonly type: 'flowing' }
  | { readonly type: 'timer'; readonly now: number }
  | { readonly type: 'end' };

export type StallEffect =
  | { readonly type: 'arm'; readonly delayMs: number }
  | { readonly type: 'disarm' }
  | { readonly type: 'warn'; readonly stalledMs: number };

/**
 * One transition of the stall watch. `warnMs` 0 never warns (the timer still keeps the process
 * alive). A stall warns once; a new stall after a release warns again.
 */
export function stallStep(
  state: StallState,
  input: StallInput,
  warnMs: number,
): { state: StallState; effects: StallEffect[] } {
  if (state.phase === 'over') return { state, effects: [] };
  if (input.type === 'end') {
    return { state: { phase: 'over' }, effects: state.phase === 'stalled' ? [{ type: 'disarm' }] : [] };
  }
  if (state.phase === 'flowing') {
    if (input.type !== 'full') return { state, effects: [] };
    const delayMs = warnMs > 0 ? warnMs : STALL_KEEP_ALIVE_MS;
    return {
      state: { phase: 'stalled', since: input.now, warned: false },
      effects: [{ type: 'arm', delayMs }],
    };
  }
  if (input.type === 'flowing') return { state: { phase: 'flowing' }, effects: [{ type: 'disarm' }] };
  if (input.type !== 'timer') return { state, effects: [] };
  const stalledMs = input.now - state.since;
  if (warnMs > 0 && !state.warned && stalledMs >= warnMs) {
    return {
      state: { ...state, warned: true },
      effects: [
        { type: 'warn', stalledMs },
        { type: 'arm', delayMs: STALL_KEEP_ALIVE_MS },
      ],
    };
  }
  const delayMs = warnMs > 0 && !state.warned ? warnMs - stalledMs : STALL_KEEP_ALIVE_MS;
  return { state, effects: [{ type: 'arm', delayMs }] };
}

/** The message of a {@link WindowStallEvent}. */
export function stallMessage(held: number, window: number, stalledMs: number): string {
  return (
    `the source has read ${held} values (its whole window of ${window}) and none has been released ` +
    `for ${duration(stalledMs)}, so it reads nothing more. Likely cause: values dropped ` +
    `(filter, take, toArray ...) without releaseLeases() or lease.release(); otherwise the values ` +
    `downstream are slow to finish (a slow or unreachable service).`
  );
}

function duration(ms: number): string {
  return ms < 10_000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

export interface StallWatch {
  /** Tells the watch whether every credit is held by a value emitted and not released. */
  update(full: boolean): void;
  /** The subscription ended: disarms for good. */
  end(): void;
}

/**
 * The shell: runs {@link stallStep}'s effects on `scheduler`. `report` gets each warning; an
 * exception it throws goes to `fail`.
 */
export function stallWatch(options: {
  readonly window: number;
  readonly warnMs: number;
  readonly scheduler: SchedulerLike;
  readonly events: Partial<Observer<SourceEvent>> | undefined;
  readonly fail: (error: unknown) => void;
}): StallWatch {
  const { window, warnMs, scheduler, events, fail } = options;
  let state: StallState = { phase: 'flowing' };
  let timer: Subscription | undefined;

  const dispatch = (input: StallInput): void => {
    const next = stallStep(state, input, warnMs);
    state = next.state;
    for (const effect of next.effects) {
      if (effect.type === 'warn') {
        const event: WindowStallEvent = {
          type: 'window-stall',
          held: window,
          window,
          stalledMs: effect.stalledMs,
          message: stallMessage(window, window, effect.stalledMs),
        };
        try {
          events?.next?.(event);
        } catch (error) {
          fail(error);
        }
        continue;
      }
      // A warning whose observer failed may have ended the subscription: arm nothing after that.
      if (effect.type === 'arm' && state.phase === 'over') continue;
      timer?.unsubscribe();
      timer =
        effect.type === 'arm'
          ? scheduler.schedule(() => dispatch({ type: 'timer', now: scheduler.now() }), effect.delayMs)
          : undefined;
    }
  };

  return {
    update: (full) => dispatch(full ? { type: 'full', now: scheduler.now() } : { type: 'flowing' }),
    end: () => dispatch({ type: 'end' }),
  };
}
