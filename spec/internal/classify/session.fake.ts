/**
 * Helpers for tests of the classify core: configs built by `classifyConfig` with a scheduler that must
 * never be read (the core takes its time from the events), a driver that feeds `step` and checks the
 * invariants every step must keep, and effects written as short strings.
 */
import type { SchedulerLike } from 'rxjs';
import { expect } from 'vitest';
import type { AthenaError } from '../../../src/errors.js';
import { classifyConfig, type ClassifyOptions } from '../../../src/internal/classify/options.js';
import {
  initialState,
  type Effect,
  type SessionEvent,
  type SessionState,
} from '../../../src/internal/classify/state.js';
import { step } from '../../../src/internal/classify/step.js';

/** A scheduler the core must not touch: `step` reads the time from its events. */
export const untouchedScheduler: SchedulerLike = {
  now: () => {
    throw new Error('the classify core read the scheduler');
  },
  schedule: () => {
    throw new Error('the classify core scheduled a timer');
  },
};

export function coreConfig(options: Partial<ClassifyOptions> = {}) {
  return classifyConfig({
    deploymentId: 'dep',
    affiliate: 'aff',
    scheduler: untouchedScheduler,
    random: () => 0.5,
    ...options,
  });
}

/** An event without its time. */
export type Untimed = SessionEvent extends infer E
  ? E extends SessionEvent
    ? Omit<E, 'now'>
    : never
  : never;

/** Effects as short strings: `emit a`, `emit a:timeout:TIMEOUT`, `write 2#3 [a,b]`, `wake 100` ... */
export function show(effect: Effect): string {
  switch (effect.type) {
    case 'open':
    case 'half-close':
    case 'cancel':
      return `${effect.type} ${effect.stream}`;
    case 'write':
      return `write ${effect.stream}#${effect.request} [${effect.inputs.map((i) => i.correlationId).join(',')}]`;
    case 'emit': {
      const o = effect.outcome;
      return o.ok ? `emit ${o.correlationId}` : `emit ${o.correlationId ?? o.ref}:${o.stage}:${o.error.code}`;
    }
    case 'event': {
      const e = effect.event;
      switch (e.type) {
        case 'reconnect':
          return `reconnect #${e.attempt} +${e.delayMs} ${(e.error as AthenaError).code}`;
        case 'stall':
          return `stall ${e.afterMs}ms ${e.items}`;
        case 'global-error':
          return `global-error ${e.items}`;
        case 'foreign':
        case 'duplicate':
          return `${e.type} ${e.correlationId}`;
        default:
          return e.type;
      }
    }
    case 'foreign':
      return `foreign-output ${effect.output.correlationId}`;
    case 'complete':
      return 'complete';
    case 'error':
      return `error ${(effect.error as AthenaError).code}`;
    case 'wake':
      return `wake ${effect.at ?? 'none'}`;
  }
}

/**
 * Drives `step` from `initialState(coreConfig(options))`; unless `acknowledgesWrites`, every request
 * written is acknowledged at once, as the shell does. After every step it checks what must always
 * hold: at most one `wake`, equal to the state's, named when the due time changed and after every
 * `tick` (the shell's timer is spent then); no timer
 * once the run is over; and once over, every event is ignored.
 */
export function session(options: Partial<ClassifyOptions> = {}, { acknowledgesWrites = false } = {}) {
  let state: SessionState = initialState(coreConfig(options));
  const shown: string[] = [];
  let last: readonly Effect[] = [];
  const once = (now: number, event: Untimed): string[] => {
    const before = state;
    const result = step(state, { ...event, now } as SessionEvent);
    const wakes = result.effects.filter((e) => e.type === 'wake');
    expect(wakes.length).toBeLessThanOrEqual(1);
    if (wakes.length === 1) {
      expect(wakes[0]?.at).toBe(result.state.wakeAt);
      if (event.type !== 'tick') expect(result.state.wakeAt).not.toBe(before.wakeAt);
    } else {
      expect(event.type !== 'tick' || result.state.stream.tag === 'over').toBe(true);
      expect(result.state.wakeAt).toBe(before.wakeAt);
    }
    if (before.stream.tag === 'over') {
      expect(result.effects).toEqual([]);
      expect(result.state).toBe(before);
    }
    if (result.state.stream.tag === 'over') expect(result.state.wakeAt).toBeUndefined();
    state = result.state;
    last = result.effects;
    const out = result.effects.map(show);
    shown.push(...out.map((s) => `${now} ${s}`));
    return out;
  };
  /**
   * One event, then (as the shell does for a client that does not report writes) a `written` event
   * for each request written, after the effects of the step that wrote it.
   */
  const send = (now: number, event: Untimed): string[] => {
    const queue: Untimed[] = [event];
    const out: string[] = [];
    const effects: Effect[] = [];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      out.push(...once(now, next));
      effects.push(...last);
      if (acknowledgesWrites) continue;
      for (const e of last) {
        if (e.type === 'write' && e.request >= 0) {
          queue.push({ type: 'written', stream: e.stream, request: e.request });
        }
      }
    }
    last = effects;
    return out;
  };
  return {
    get state(): SessionState {
      return state;
    },
    /** The effects of the last step, as they came. */
    get effects(): readonly Effect[] {
      return last;
    },
    /** Every effect so far, each prefixed by the time of the event that asked for it. */
    shown,
    send,
    tick: (now: number) => send(now, { type: 'tick' }),
    opened: (now: number, stream: number) => send(now, { type: 'opened', stream }),
    ended: (now: number, stream: number, error?: AthenaError) => send(now, { type: 'ended', stream, error }),
    phase: (id: string) => state.entries.get(id)?.phase.tag,
  };
}

/** The phases of the pending images, by id. */
export function phases(state: SessionState): Record<string, string> {
  return Object.fromEntries([...state.entries.values()].map((e) => [e.id, e.phase.tag]));
}
