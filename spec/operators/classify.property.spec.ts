/**
 * Property: whatever the faults (streams reset after k responses or ended by the server, outputs
 * dropped, failed, duplicated or carried over to the next stream, global errors, other clients'
 * outputs), every input gets exactly one outcome, no outcome comes twice, every lease is released
 * exactly once and only after its outcome was emitted, and no timer is left behind.
 */
import fc from 'fast-check';
import { Observable, VirtualTimeScheduler, type Subscriber } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import { ErrorCode, type ClassifyResponse } from '../../src/generated/athena/models.js';
import type { Outcome } from '../../src/model.js';
import { classify, type ClassifyInput } from '../../src/operators/classify.js';
import type { ClassifyStreamClient } from '../../src/transport/contracts.js';
import {
  bad,
  batchOf,
  countingLease,
  globalError,
  item,
  ok,
  resp,
  upstreamFailure,
} from './classify.fake.js';

type Fate = 'ok' | 'flaky' | 'model' | 'permanent' | 'drop' | 'dup';

interface Plan {
  /** Input groups: a batch of items, a lone item, an upstream failure, or an item without an id. */
  readonly groups: { kind: 'batch' | 'item' | 'failure' | 'no-id'; size: number; gap: number }[];
  readonly fates: Fate[];
  /** Per stream: responses it delivers before it breaks (none: it never breaks). */
  readonly breakAfter: (number | null)[];
  /** From this stream on, every stream breaks before its first response (an outage). */
  readonly outageFrom: number | null;
  /** Whether a break is the server ending the call instead of an error. */
  readonly endInsteadOfError: boolean;
  /** Requests (numbered over the run) answered by a global error. */
  readonly globalErrors: number[];
  /** Requests after which another client's output arrives. */
  readonly foreign: number[];
  readonly delay: number;
  readonly ordered: boolean;
  readonly maxInFlight: number;
  readonly retry: boolean;
  /** Seed of the backoff jitter. */
  readonly seed: number;
}

const planArb: fc.Arbitrary<Plan> = fc.record({
  groups: fc.array(
    fc.record({
      kind: fc.constantFrom('batch', 'batch', 'item', 'item', 'failure', 'no-id'),
      size: fc.integer({ min: 1, max: 6 }),
      gap: fc.integer({ min: 0, max: 8 }),
    }),
    { minLength: 0, maxLength: 12 },
  ),
  fates: fc.array(fc.constantFrom<Fate>('ok', 'ok', 'ok', 'flaky', 'model', 'permanent', 'drop', 'dup'), {
    minLength: 80,
    maxLength: 80,
  }),
  breakAfter: fc.array(
    fc.oneof(
      { weight: 2, arbitrary: fc.constant(0) },
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 6 }) },
      { weight: 1, arbitrary: fc.constant(null) },
    ),
    { maxLength: 8 },
  ),
  outageFrom: fc.oneof(
    { weight: 3, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }) },
  ),
  endInsteadOfError: fc.boolean(),
  globalErrors: fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 3 }),
  foreign: fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 3 }),
  delay: fc.integer({ min: 1, max: 6 }),
  ordered: fc.boolean(),
  maxInFlight: fc.integer({ min: 1, max: 12 }),
  retry: fc.boolean(),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

/** A small deterministic PRNG (mulberry32), so a counterexample replays exactly. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A deployment as the fake sees it: outputs go to whichever stream is open when they are due (one
 * that broke leaves them for the next), streams break as planned, and outputs follow the item's fate.
 */
function faultyDeployment(vts: VirtualTimeScheduler, plan: Plan): ClassifyStreamClient {
  let current: Subscriber<ClassifyResponse> | undefined;
  let call = -1;
  let deliveredOnCall = 0;
  let requestNo = -1;
  const backlog: ClassifyResponse[] = [];
  const attempts = new Map<string, number>();

  const deliver = (response: ClassifyResponse): void => {
    const stream = current;
    if (stream === undefined) {
      backlog.push(response);
      return;
    }
    const limit = plan.outageFrom !== null && call >= plan.outageFrom ? 0 : plan.breakAfter[call];
    if (limit !== undefined && limit !== null && deliveredOnCall >= limit) {
      current = undefined;
      backlog.push(response);
      if (plan.endInsteadOfError) stream.complete();
      else stream.error(new AthenaError('UNAVAILABLE', 'reset by the fake', { status: 14 }));
      return;
    }
    deliveredOnCall += 1;
    stream.next(response);
  };

  const answer = (id: string): ClassifyResponse['outputs'] => {
    const attempt = (attempts.get(id) ?? 0) + 1;
    attempts.set(id, attempt);
    const fate = plan.fates[Number(id.split('-')[1]) % plan.fates.length];
    switch (fate) {
      case 'drop':
        return [];
      case 'dup':
        return [ok(id), ok(id)];
      case 'model':
        return [bad(id)];
      case 'flaky':
        return attempt === 1 ? [bad(id, ErrorCode.ERROR_CODE_UNSPECIFIED)] : [ok(id)];
      case 'permanent':
        return [bad(id, ErrorCode.ERROR_CODE_IMAGE_TOO_LARGE)];
      default:
        return [ok(id)];
    }
  };

  return {
    classifyStream: (_deploymentId, requests$) =>
      new Observable<ClassifyResponse>((subscriber) => {
        call += 1;
        current = subscriber;
        deliveredOnCall = 0;
        const carried = backlog.splice(0);
        const timers = vts.schedule(() => carried.forEach(deliver), 1);
        timers.add(
          requests$.subscribe({
            next: (request) => {
              if (request.inputs.length === 0) return;
              requestNo += 1;
              const n = requestNo;
              const responses = plan.globalErrors.includes(n)
                ? [globalError()]
                : [resp(...request.inputs.flatMap((input) => answer(input.correlationId)))].filter(
                    (r) => r.outputs.length > 0,
                  );
              if (plan.foreign.includes(n)) responses.push(resp(ok(`foreign-${n}`)));
              // Outputs belong to the deployment: they outlive the stream that asked for them.
              vts.schedule(() => responses.forEach(deliver), plan.delay);
            },
            complete: () => {
              if (current === subscriber) current = undefined;
              subscriber.complete();
            },
          }),
        );
        return () => {
          if (current === subscriber) current = undefined;
          timers.unsubscribe();
        };
      }),
  };
}

function inputOf(vts: VirtualTimeScheduler, plan: Plan) {
  const values: { value: ClassifyInput; refs: string[] }[] = [];
  const leases: ReturnType<typeof countingLease>[] = [];
  let n = 0;
  const next = (id: boolean) => {
    const lease = countingLease();
    leases.push(lease);
    const ref = `img-item-${n}`;
    return item(id ? `item-${n++}` : (n++, undefined), { lease, ref });
  };
  const times: number[] = [];
  let at = 0;
  for (const group of plan.groups) {
    at += group.gap;
    times.push(at);
    let value: ClassifyInput;
    if (group.kind === 'batch') value = batchOf(...Array.from({ length: group.size }, () => next(true)));
    else if (group.kind === 'item') value = next(true);
    else if (group.kind === 'no-id') value = next(false);
    else {
      const lease = countingLease();
      leases.push(lease);
      value = { ...upstreamFailure(`img-item-${n++}`), lease };
    }
    values.push({ value, refs: value.kind === 'batch' ? value.items.map((i) => i.ref) : [value.ref] });
  }
  /** Refs of the inputs emitted so far: a run that errors stops reading, so later ones never arrive. */
  const emitted: string[] = [];
  const emittedLeases: ReturnType<typeof countingLease>[] = [];
  const input$ = new Observable<ClassifyInput>((subscriber) => {
    values.forEach(({ value, refs }, i) =>
      vts.schedule(() => {
        if (subscriber.closed) return;
        emitted.push(...refs);
        for (const ref of refs)
          emittedLeases.push(leases[Number(ref.split('-')[2])] as ReturnType<typeof countingLease>);
        subscriber.next(value);
      }, times[i]),
    );
    vts.schedule(() => subscriber.complete(), at + 1);
  });
  return { input$, leases, emitted, emittedLeases };
}

describe('classify: property over fault schedules', () => {
  it('gives every input exactly one outcome and releases every lease exactly once', () => {
    /** What the runs went through, so the generator is known to reach every fault. */
    const seen = new Map<string, number>();
    const count = (key: string) => seen.set(key, (seen.get(key) ?? 0) + 1);
    fc.assert(
      fc.property(planArb, (plan) => {
        const vts = new VirtualTimeScheduler(undefined, 10_000_000);
        const { input$, leases, emitted, emittedLeases } = inputOf(vts, plan);
        const outcomes: Outcome[] = [];
        let ended: 'complete' | AthenaError | undefined;
        const leaseAtEmit: number[] = [];
        input$
          .pipe(
            classify(faultyDeployment(vts, plan), {
              deploymentId: 'dep',
              affiliate: 'aff',
              scheduler: vts,
              random: seeded(plan.seed),
              ordered: plan.ordered,
              maxInFlight: plan.maxInFlight,
              events: { next: (e) => count(e.type) },
              itemTimeoutMs: 100,
              keepaliveMs: 30,
              reconnect: { maxAttempts: 4, initialDelayMs: 10, maxDelayMs: 40 },
              ...(plan.retry ? { retry: { maxAttempts: 3, initialDelayMs: 6 } } : {}),
            }),
          )
          .subscribe({
            next: (o) => {
              outcomes.push(o);
              leaseAtEmit.push((o.lease as ReturnType<typeof countingLease> | undefined)?.released ?? -1);
            },
            error: (e: AthenaError) => (ended = e),
            complete: () => (ended = 'complete'),
          });
        vts.flush();
        count(ended === 'complete' ? 'completed' : 'errored');
        for (const o of outcomes) if (!o.ok) count(`${o.stage}:${o.error.code}`);

        expect(ended).toBeDefined();
        if (ended !== 'complete') expect(ended?.code).toBe('UNAVAILABLE');
        if (ended === 'complete') expect(emitted).toHaveLength(leases.length);
        expect(outcomes.map((o) => o.ref).sort()).toEqual([...emitted].sort());
        if (plan.ordered) expect(outcomes.map((o) => o.ref)).toEqual(emitted);
        expect(leaseAtEmit.every((released) => released === 0)).toBe(true);
        expect(emittedLeases.map((l) => l.released)).toEqual(emittedLeases.map(() => 1));
        expect(vts.actions).toEqual([]);
        if (ended === 'complete')
          expect(outcomes.filter((o) => !o.ok && o.stage === 'transport')).toEqual([]);
      }),
      { numRuns: 300 },
    );
    for (const key of [
      'completed',
      'errored',
      'reconnect',
      'resent',
      'duplicate',
      'foreign',
      'global-error',
      'retry',
      'keepalive',
      'timeout:TIMEOUT',
      'transport:UNAVAILABLE',
      'classify:GLOBAL_ERROR',
      'classify:IMAGE_TOO_LARGE',
      'validate:INVALID_ID',
    ]) {
      expect(seen.get(key) ?? 0, key).toBeGreaterThan(0);
    }
  });
});
