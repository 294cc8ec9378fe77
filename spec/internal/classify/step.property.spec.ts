/**
 * Property of the classify core: `step` driven by random event sequences from a simulated server
 * (random batches, late acks, own, foreign and duplicate outputs, global-error storms, streams that
 * reset every N outputs, go silent, never open or are refused, graceful shutdowns, a late
 * UNAUTHENTICATED, images never answered). Time moves only through the events: a `tick` at the time
 * the core asked for, or a server event due earlier. Every input gets exactly one outcome, never later
 * than its deadline, the window is never overfilled, and a run that is over leaves no timer and no call.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AthenaError } from '../../../src/errors.js';
import { ErrorCode, type ClassifyResponse } from '../../../src/generated/athena/models.js';
import { initialState, type Effect, type SessionEvent } from '../../../src/internal/classify/state.js';
import { step } from '../../../src/internal/classify/step.js';
import { bad, batchOf, globalError, item, ok, resp } from '../../operators/classify.fake.js';
import { coreConfig, type Untimed } from './session.fake.js';

type Fate = 'ok' | 'bad' | 'dup' | 'never';
type StreamFault = 'none' | 'refuse' | 'hang' | 'stall' | 'unauth';

interface Plan {
  /** Input values: a batch of `size` images (1: a lone image), `gap` ms after the previous one. */
  readonly inputs: readonly { readonly size: number; readonly gap: number }[];
  readonly fates: readonly Fate[];
  /** What the n-th call does (beyond the list: nothing wrong). */
  readonly calls: readonly StreamFault[];
  /** A call ends after this many responses (null: never), with this status. */
  readonly resetEvery: number | null;
  readonly resetWith: 'UNAVAILABLE' | 'CANCELLED' | 'clean';
  /** Requests (numbered over the run) answered by a global error, and how many times. */
  readonly storms: readonly { readonly request: number; readonly count: number }[];
  readonly foreignEvery: number;
  readonly acknowledgesWrites: boolean;
  readonly ackLag: number;
  readonly ordered: boolean;
  readonly retry: boolean;
  readonly maxInFlight: number;
  readonly stallTimeoutMs: number;
  readonly keepaliveMs: number;
  readonly itemTimeoutMs: number;
  readonly seed: number;
}

const planArb: fc.Arbitrary<Plan> = fc.record({
  inputs: fc.array(
    fc.record({
      size: fc.oneof(
        { weight: 2, arbitrary: fc.constant(1) },
        { weight: 3, arbitrary: fc.integer({ min: 1, max: 7 }) },
      ),
      gap: fc.integer({ min: 0, max: 40 }),
    }),
    { maxLength: 10 },
  ),
  fates: fc.array(fc.constantFrom<Fate>('ok', 'ok', 'ok', 'ok', 'bad', 'dup', 'never'), {
    minLength: 13,
    maxLength: 13,
  }),
  calls: fc.array(fc.constantFrom<StreamFault>('none', 'none', 'refuse', 'hang', 'stall', 'unauth'), {
    maxLength: 6,
  }),
  resetEvery: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 5 })),
  resetWith: fc.constantFrom('UNAVAILABLE' as const, 'CANCELLED' as const, 'clean' as const),
  storms: fc.array(
    fc.record({ request: fc.integer({ min: 1, max: 12 }), count: fc.integer({ min: 1, max: 4 }) }),
    { maxLength: 3 },
  ),
  foreignEvery: fc.integer({ min: 0, max: 4 }),
  acknowledgesWrites: fc.boolean(),
  ackLag: fc.integer({ min: 0, max: 30 }),
  ordered: fc.boolean(),
  retry: fc.boolean(),
  maxInFlight: fc.integer({ min: 1, max: 6 }),
  stallTimeoutMs: fc.constantFrom(0, 60, 150),
  keepaliveMs: fc.constantFrom(0, 40),
  itemTimeoutMs: fc.constantFrom(120, 300, 1_000),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

/** mulberry32: the server's choices replay exactly from the plan's seed. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** After this long the server behaves: no new faults, every image answered, so every run ends. */
const CALM_AT = 3_000;
const MAX_STEPS = 20_000;

interface ServerCall {
  alive: boolean;
  responses: number;
  readonly fault: StreamFault;
}

/** Runs one plan to its end and returns what the checks need. */
function simulate(plan: Plan, seen: (key: string) => void) {
  const random = seeded(plan.seed);
  const between = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const config = coreConfig({
    maxInFlight: plan.maxInFlight,
    ordered: plan.ordered,
    itemTimeoutMs: plan.itemTimeoutMs,
    stallTimeoutMs: plan.stallTimeoutMs,
    keepaliveMs: plan.keepaliveMs,
    closeTimeoutMs: 50,
    reconnect: { maxAttempts: 1_000, initialDelayMs: 5, maxDelayMs: 40, budgetMs: 2_000 },
    random: seeded(plan.seed ^ 0x5bd1e995),
    ...(plan.retry ? { retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 20 } } : {}),
  });
  let state = initialState(config);
  let now = 0;
  let order = 0;
  const agenda: { at: number; order: number; event: Untimed }[] = [];
  const at = (time: number, event: Untimed) => agenda.push({ at: time, order: order++, event });

  const calls = new Map<number, ServerCall>();
  /** Calls the shell would hold: opened and not yet ended or cancelled. */
  const held = new Set<number>();
  const fed: string[] = [];
  const emitted = new Map<string, number>();
  const firstWrite = new Map<string, number>();
  const attempts = new Map<string, number>();
  const late: string[] = [];
  const overfilled: number[] = [];
  const largest = Math.max(plan.maxInFlight, ...plan.inputs.map((i) => i.size));
  let requests = 0;
  let opens = 0;
  let result: 'complete' | AthenaError | undefined;
  let steps = 0;

  const calm = () => now >= CALM_AT;
  const fateOf = (id: string): Fate => {
    const attempt = (attempts.get(id) ?? 0) + 1;
    attempts.set(id, attempt);
    if (calm()) return 'ok';
    return plan.fates[(Number(id.slice(1)) * 7 + attempt) % plan.fates.length] as Fate;
  };
  const deliver = (stream: number, response: ClassifyResponse, delay: number) =>
    at(now + delay, { type: 'response', stream, response });

  let n = 0;
  let time = 0;
  for (const { size, gap } of plan.inputs) {
    time += gap;
    const items = Array.from({ length: size }, () => item(`i${n++}`));
    at(time, {
      type: 'input',
      value: size === 1 ? (items[0] as ReturnType<typeof item>) : batchOf(...items),
    });
  }
  at(time + 1, { type: 'input-end' });

  function react(effect: Effect): Untimed[] {
    switch (effect.type) {
      case 'open': {
        opens += 1;
        const fault = calm() ? 'none' : (plan.calls[opens - 1] ?? 'none');
        calls.set(effect.stream, { alive: true, responses: 0, fault });
        held.add(effect.stream);
        if (fault === 'refuse') {
          at(now + between(1, 5), { type: 'ended', stream: effect.stream, error: status('UNAVAILABLE') });
        } else if (fault !== 'hang') {
          at(now + between(0, 3), { type: 'opened', stream: effect.stream });
        }
        if (fault === 'unauth') {
          at(now + between(5, 60), {
            type: 'ended',
            stream: effect.stream,
            error: status('UNAUTHENTICATED'),
          });
        }
        return [];
      }
      case 'write': {
        for (const input of effect.inputs) {
          if (!firstWrite.has(input.correlationId)) firstWrite.set(input.correlationId, now);
        }
        if (effect.request < 0) return [];
        requests += 1;
        const call = calls.get(effect.stream);
        const acks: Untimed[] = [];
        const written: Untimed = { type: 'written', stream: effect.stream, request: effect.request };
        if (plan.acknowledgesWrites) at(now + between(0, plan.ackLag), written);
        else acks.push(written);
        if (call === undefined || call.fault === 'stall') return acks;
        const storm = calm() ? undefined : plan.storms.find((s) => s.request === requests);
        if (storm !== undefined) {
          for (let k = 0; k < storm.count; k += 1) deliver(effect.stream, globalError(), between(1, 20));
        } else {
          for (const input of effect.inputs) {
            const id = input.correlationId;
            switch (fateOf(id)) {
              case 'ok':
                deliver(effect.stream, resp(ok(id)), between(1, 30));
                break;
              case 'bad':
                deliver(effect.stream, resp(bad(id, ErrorCode.ERROR_CODE_MODEL_ERROR)), between(1, 30));
                break;
              case 'dup':
                deliver(effect.stream, resp(ok(id)), between(1, 15));
                deliver(effect.stream, resp(ok(id)), between(16, 30));
                break;
              case 'never':
                break;
            }
          }
        }
        if (plan.foreignEvery > 0 && requests % plan.foreignEvery === 0) {
          deliver(effect.stream, resp(ok(`foreign-${requests}`)), between(1, 30));
        }
        return acks;
      }
      case 'half-close': {
        const call = calls.get(effect.stream);
        if (call !== undefined && (calm() || random() < 0.8)) {
          at(now + between(1, 20), { type: 'ended', stream: effect.stream, error: undefined });
        }
        return [];
      }
      case 'cancel': {
        const call = calls.get(effect.stream);
        if (call !== undefined) call.alive = false;
        held.delete(effect.stream);
        // A response or end already on its way may still reach the core; it must be ignored.
        if (random() < 0.3) at(now + 1, { type: 'ended', stream: effect.stream, error: status('CANCELLED') });
        return [];
      }
      case 'emit': {
        const o = effect.outcome;
        emitted.set(o.ref, (emitted.get(o.ref) ?? 0) + 1);
        seen(o.ok ? 'classified' : `${o.stage}:${o.error.code}`);
        const first = o.correlationId === undefined ? undefined : firstWrite.get(o.correlationId);
        const lag = plan.acknowledgesWrites ? plan.ackLag : 0;
        if (!plan.ordered && first !== undefined && now > first + plan.itemTimeoutMs + lag) {
          late.push(`${o.ref} at ${now}, first written at ${first}`);
        }
        return [];
      }
      case 'event':
        seen(
          effect.event.type === 'reconnect'
            ? `reconnect:${(effect.event.error as AthenaError).code}`
            : effect.event.type,
        );
        return [];
      case 'complete':
        result = 'complete';
        return [];
      case 'error':
        result = effect.error as AthenaError;
        return [];
      default:
        return [];
    }
  }

  function feed(event: Untimed): void {
    const queue: Untimed[] = [event];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      steps += 1;
      const wasOver = state.stream.tag === 'over';
      const before = state;
      if (next.type === 'input')
        fed.push(...(next.value.kind === 'batch' ? next.value.items : [next.value]).map((i) => i.ref));
      const out = step(state, { ...next, now } as SessionEvent);
      state = out.state;
      if (wasOver) {
        expect(out.effects).toEqual([]);
        expect(state).toBe(before);
        if (next.type === 'input') fed.pop();
      }
      if (state.occupied > largest) overfilled.push(state.occupied);
      for (const effect of out.effects) queue.push(...react(effect));
    }
  }

  /** A server event on a call: delivered while the call lives; a response may reset it. */
  function serve(event: Untimed): void {
    if (event.type === 'response' || event.type === 'opened') {
      const call = calls.get(event.stream);
      if (call === undefined || !call.alive) return;
      feed(event);
      if (event.type === 'response' && plan.resetEvery !== null && !calm()) {
        call.responses += 1;
        if (call.responses % plan.resetEvery === 0 && call.alive) {
          call.alive = false;
          held.delete(event.stream);
          feed({
            type: 'ended',
            stream: event.stream,
            error: plan.resetWith === 'clean' ? undefined : status(plan.resetWith),
          });
        }
      }
      return;
    }
    if (event.type === 'ended') {
      const call = calls.get(event.stream);
      if (call !== undefined && call.alive) {
        call.alive = false;
        held.delete(event.stream);
      }
    }
    feed(event);
  }

  feed({ type: 'tick' });
  while (state.stream.tag !== 'over' && steps < MAX_STEPS) {
    agenda.sort((a, b) => a.at - b.at || a.order - b.order);
    const next = agenda[0];
    const wake = state.wakeAt;
    if (wake !== undefined && (next === undefined || wake <= next.at)) {
      now = Math.max(now, wake);
      feed({ type: 'tick' });
    } else if (next !== undefined) {
      agenda.shift();
      now = Math.max(now, next.at);
      serve(next.event);
    } else {
      break;
    }
  }
  return { state, result, fed, emitted, late, overfilled, held, steps };
}

function status(code: 'UNAVAILABLE' | 'CANCELLED' | 'UNAUTHENTICATED'): AthenaError {
  const number = { CANCELLED: 1, UNAVAILABLE: 14, UNAUTHENTICATED: 16 }[code];
  return new AthenaError(code, `${code} from the simulated server`, { status: number });
}

describe('step: property over simulated servers', () => {
  it('gives every input one outcome by its deadline, never overfills the window, and ends clean', () => {
    const counts = new Map<string, number>();
    const seen = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
    fc.assert(
      fc.property(planArb, (plan) => {
        const run = simulate(plan, seen);
        seen(run.result === 'complete' ? 'completed' : run.result === undefined ? 'unfinished' : 'errored');
        expect(run.steps).toBeLessThan(MAX_STEPS);
        expect(run.state.stream.tag).toBe('over');
        expect(run.result).toBeDefined();
        expect(run.state.wakeAt).toBeUndefined();
        expect([...run.held]).toEqual([]);
        // Exactly one outcome per input taken in; all of them were taken in when the run completed.
        expect([...run.emitted.entries()].filter(([, k]) => k !== 1)).toEqual([]);
        expect([...run.emitted.keys()].sort()).toEqual([...run.fed].sort());
        if (run.result === 'complete') {
          expect(run.fed).toHaveLength(plan.inputs.reduce((k, i) => k + i.size, 0));
        }
        expect(run.late).toEqual([]);
        expect(run.overfilled).toEqual([]);
      }),
      { numRuns: 250 },
    );
    for (const key of [
      'completed',
      'errored',
      'classified',
      'reconnect:UNAVAILABLE',
      'reconnect:CANCELLED',
      'reconnect:UNAUTHENTICATED',
      'reconnect:STALLED',
      'stall',
      'resent',
      'retry',
      'duplicate',
      'foreign',
      'global-error',
      'keepalive',
      'timeout:TIMEOUT',
      'transport:UNAVAILABLE',
      'classify:GLOBAL_ERROR',
    ]) {
      expect(counts.get(key) ?? 0, key).toBeGreaterThan(0);
    }
  });
});
