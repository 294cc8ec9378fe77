import {
  NEVER,
  Subject,
  config as rxConfig,
  VirtualTimeScheduler,
  from,
  map,
  merge,
  mergeMap,
  throwError,
  timer,
  type Observable,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  type ClassificationOutput,
  type ClassifyResponse,
} from '../../src/generated/athena/models.js';
import type { Outcome } from '../../src/model.js';
import { classify, type ClassifyOptions, type ClassifyInput } from '../../src/operators/classify.js';
import {
  bad,
  batchOf,
  countingLease,
  echo,
  eventLog,
  fakeClient,
  globalError,
  item,
  ok,
  resp,
  show,
  status,
  untilHalfClose,
  upstreamFailure,
  type Responder,
} from './classify.fake.js';

const base = { deploymentId: 'dep-1', affiliate: 'aff' } as const;

/** The error a run ends with when it gives up: the status's code, with the status as its cause. */
function runError(cause: Error & { code: string }) {
  return expect.objectContaining({ code: cause.code, cause, message: expect.stringContaining('never read') });
}

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** Runs `classify` over `input` against `responder` and returns the outcomes as strings. */
function setup(ts: TestScheduler, responder: Responder, options: Partial<ClassifyOptions> = {}) {
  const fake = fakeClient(ts, responder);
  const events = eventLog(ts);
  const foreign: ClassificationOutput[] = [];
  const operator = classify(fake.client, {
    ...base,
    scheduler: ts,
    random: () => 0.5,
    keepaliveMs: 0, // keepalives go on forever in virtual time: on only where a test ends the run
    events: events.observer,
    foreign: { next: (o) => foreign.push(o) },
    ...options,
  });
  const run = (input: Observable<ClassifyInput>) => input.pipe(operator, show());
  return { ...fake, events: events.log, foreign, run, operator };
}

describe('classify: factory', () => {
  const client = fakeClient(scheduler(), () => NEVER).client;

  it.each([
    [{ ...base, deploymentId: '' }, RangeError],
    [{ ...base, deploymentId: 'd'.repeat(64) }, RangeError],
    [{ ...base, affiliate: '' }, RangeError],
    [{ ...base, affiliate: 3 }, TypeError],
    [{ ...base, maxInFlight: 0 }, RangeError],
    [{ ...base, itemTimeoutMs: 0 }, RangeError],
    [{ ...base, keepaliveMs: -1 }, RangeError],
    [{ ...base, reconnect: { maxAttempts: 0 } }, RangeError],
    [{ ...base, retry: { multiplier: 0.5 } }, RangeError],
  ])('rejects %o', (options, type) => {
    expect(() => classify(client, options as ClassifyOptions)).toThrow(type);
  });

  it('accepts a 63-character deployment id and needs a client', () => {
    expect(() => classify(client, { ...base, deploymentId: 'd'.repeat(63) })).not.toThrow();
    expect(() => classify({} as never, base)).toThrow(TypeError);
  });
});

describe('classify: marbles', () => {
  it('writes lone items as batches of one and batches as given, and passes outcomes through', () => {
    const ts = scheduler();
    const t = setup(ts, echo(ts, 3));
    ts.run(({ cold, expectObservable }) => {
      const input = cold<ClassifyInput>('-a--b-f|', {
        a: item('1'),
        b: batchOf(item('2'), item('3')),
        f: upstreamFailure('broken.png'),
      });
      expectObservable(t.run(input)).toBe('----a-f(bc|)', {
        a: '1',
        b: '2',
        c: '3',
        f: 'broken.png:read:READ_FAILED',
      });
    });
    expect(t.calls).toHaveLength(1);
    expect(t.calls[0]?.writes).toEqual([
      { at: 1, ids: ['1'] },
      { at: 4, ids: ['2', '3'] },
    ]);
    expect(t.calls[0]?.halfClosedAt).toBe(7);
    expect(t.calls[0]?.cancelledAt).toBeUndefined();
    expect(t.events).toEqual(['1 sent 1/3', '4 sent 2/6']);
  });

  it('builds the wire input from the item', () => {
    const ts = scheduler();
    const requests: ClassifyResponse[] = [];
    const t = setup(ts, (call) => {
      call.requests.subscribe((r) => requests.push(r as never));
      return NEVER;
    });
    ts.run(({ cold }) => {
      const hashes = [{ value: 'ab', type: 1 }];
      t.run(cold<ClassifyInput>('a', { a: item('1', { hashes, encoding: 2, format: 5 }) })).subscribe();
    });
    expect(requests[0]).toEqual({
      deploymentId: 'dep-1',
      inputs: [
        {
          affiliate: 'aff',
          correlationId: '1',
          encoding: 2,
          format: 5,
          data: Buffer.from([1, 2, 3]),
          hashes: [{ value: 'ab', type: 1 }],
        },
      ],
    });
  });

  it('matches outputs that come out of order and in other groupings', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const t = setup(ts, () => cold('----a---b|', { a: resp(ok('3'), ok('1')), b: resp(ok('2')) }));
      const input = cold<ClassifyInput>('(a|)', { a: batchOf(item('1'), item('2'), item('3')) });
      expectObservable(t.run(input)).toBe('----(ab)c|', { a: '3', b: '1', c: '2' });
    });
  });

  it('completes an empty input after the half-close, when the server ends the call', () => {
    const ts = scheduler();
    const t = setup(ts, echo(ts, 1));
    ts.run(({ cold, expectObservable }) => {
      expectObservable(t.run(cold('|'))).toBe('|');
    });
    expect(t.calls).toHaveLength(1);
    expect(t.calls[0]).toMatchObject({ openedAt: 0, halfClosedAt: 0, writes: [], cancelledAt: undefined });
  });
});

describe('classify: timeouts and keepalive', () => {
  it('fails an item without an output at stage timeout and drops its late output', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const t = setup(ts, () => cold('--a 9ms b', { a: resp(ok('1')), b: resp(ok('2')) }), {
        itemTimeoutMs: 10,
        closeTimeoutMs: 20,
      });
      const input = cold<ClassifyInput>('(a|)', { a: batchOf(item('1'), item('2')) });
      expectObservable(t.run(input)).toBe('--a 7ms b 19ms |', { a: '1', b: '2:timeout:TIMEOUT' });
      ts.flush();
      expect(t.events).toEqual(['0 sent 2/6', '12 duplicate 2']);
      expect(t.calls[0]).toMatchObject({ halfClosedAt: 10, cancelledAt: 30 });
    });
  });

  it('keeps an idle stream alive at its cadence and writes no keepalive after the half-close', () => {
    const ts = scheduler();
    const t = setup(ts, echo(ts, 2), { keepaliveMs: 5 });
    ts.run(({ cold, expectObservable }) => {
      ts.maxFrames = 1000; // a keepalive that never stops fails instead of hanging
      expectObservable(t.run(cold('-a 20ms |', { a: item('1') }))).toBe('---a 18ms |', { a: '1' });
    });
    expect(t.calls[0]?.writes).toEqual([
      { at: 1, ids: ['1'] },
      { at: 6, ids: [] },
      { at: 11, ids: [] },
      { at: 16, ids: [] },
      { at: 21, ids: [] },
    ]);
    expect(t.calls[0]?.halfClosedAt).toBe(22);
    expect(t.events.filter((e) => e.endsWith('keepalive'))).toEqual([
      '6 keepalive',
      '11 keepalive',
      '16 keepalive',
      '21 keepalive',
    ]);
  });

  it('writes no keepalive while waiting for the server to end the call, then cancels it', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      ts.maxFrames = 1000; // a keepalive that never stops fails instead of hanging
      const t = setup(ts, () => cold('--a', { a: resp(ok('1')) }), { keepaliveMs: 3, closeTimeoutMs: 10 });
      expectObservable(t.run(cold('(a|)', { a: item('1') }))).toBe('--a 9ms |', { a: '1' });
      ts.flush();
      expect(t.calls[0]?.writes).toEqual([{ at: 0, ids: ['1'] }]);
      expect(t.calls[0]).toMatchObject({ halfClosedAt: 2, cancelledAt: 12 });
    });
  });

  it('goes on with a never-ending input until unsubscribed, then cancels the call and every timer', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      ts.maxFrames = 1000; // a keepalive that never stops fails instead of hanging
      const t = setup(ts, () => cold('--a', { a: resp(ok('1')) }), { keepaliveMs: 5 });
      expectObservable(t.run(cold('a', { a: item('1') })), '^ 11ms !').toBe('--a', { a: '1' });
      ts.flush();
      expect(t.calls[0]?.writes.map((w) => w.at)).toEqual([0, 5, 10]);
      expect(t.calls[0]).toMatchObject({ halfClosedAt: undefined, cancelledAt: 12 });
    });
  });
});

describe('classify: early unsubscribe', () => {
  const unavailable = (vts: VirtualTimeScheduler) =>
    timer(1, vts).pipe(mergeMap(() => throwError(() => status('UNAVAILABLE', 14))));
  const oneBadOutput = (vts: VirtualTimeScheduler) =>
    merge(timer(1, vts).pipe(map(() => resp(bad('1')))), NEVER);

  it.each([
    ['items in flight', () => NEVER, {}, true],
    ['a reconnect pending', unavailable, { reconnect: { initialDelayMs: 1000 } }, false],
    ['a retry pending', oneBadOutput, { retry: { initialDelayMs: 1000 } }, true],
  ] as const)('with %s cancels the call and clears every timer', (_name, responses, options, open) => {
    const vts = new VirtualTimeScheduler(undefined, 5);
    const fake = fakeClient(vts, () => responses(vts));
    const subscription = from<ClassifyInput[]>([batchOf(item('1'), item('2')), item('3')])
      .pipe(
        classify(fake.client, { ...base, scheduler: vts, random: () => 0.5, keepaliveMs: 10, ...options }),
      )
      .subscribe();
    vts.flush();
    expect(vts.actions.length).toBeGreaterThan(0);
    subscription.unsubscribe();
    expect(vts.actions).toEqual([]);
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]?.cancelledAt).toBe(open ? vts.now() : undefined);
  });
});

describe('classify: reconnects', () => {
  const unavailable = status('UNAVAILABLE', 14);

  it.each([
    ['UNAVAILABLE', 14],
    ['INTERNAL', 13],
    ['UNKNOWN', 2],
    ['RESOURCE_EXHAUSTED', 8],
    ['ABORTED', 10],
  ])('reopens after %s and writes again exactly the unanswered items', (code, number) => {
    const ts = scheduler();
    const broken = status(code, number);
    ts.run(({ cold, expectObservable }) => {
      const t = setup(
        ts,
        (call, i) => (i === 0 ? cold('--a--#', { a: resp(ok('1')) }, broken) : echo(ts, 2)(call, i)),
        { reconnect: { initialDelayMs: 10 } },
      );
      const input = cold<ClassifyInput>('(a|)', { a: batchOf(item('1'), item('2'), item('3')) });
      expectObservable(t.run(input)).toBe('--a 9ms (bc|)', { a: '1', b: '2', c: '3' });
      ts.flush();
      expect(t.calls.map((c) => c.openedAt)).toEqual([0, 10]);
      expect(t.calls[0]?.writes).toEqual([{ at: 0, ids: ['1', '2', '3'] }]);
      expect(t.calls[1]?.writes).toEqual([{ at: 10, ids: ['2', '3'] }]);
      expect(t.events).toEqual(['0 sent 3/9', `5 reconnect 1 +5 ${code}`, '10 resent 2']);
    });
  });

  it('treats the server ending the call with items unanswered as a break', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const t = setup(ts, (call, i) => (i === 0 ? cold('---|') : echo(ts, 1)(call, i)), {
        reconnect: { initialDelayMs: 4 },
      });
      expectObservable(t.run(cold('(a|)', { a: item('1') }))).toBe('------(a|)', { a: '1' });
      ts.flush();
      expect(t.events).toEqual(['0 sent 1/3', '3 reconnect 1 +2 UNAVAILABLE', '5 resent 1']);
    });
  });

  it('takes outputs of the old stream on the new one and drops the second answer', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const t = setup(
        ts,
        (_call, i) =>
          i === 0
            ? cold('-#', undefined, unavailable)
            : cold('-a-b|', { a: resp(ok('2')), b: resp(ok('2'), ok('1')) }),
        { reconnect: { initialDelayMs: 0 } },
      );
      const input = cold<ClassifyInput>('(a|)', { a: batchOf(item('1'), item('2')) });
      expectObservable(t.run(input)).toBe('--a-b|', { a: '2', b: '1' });
      ts.flush();
      expect(t.calls[1]?.writes).toEqual([{ at: 1, ids: ['1', '2'] }]);
      expect(t.events).toContain('4 duplicate 2');
    });
  });

  it('fails every pending item at stage transport when the budget is spent, then reports the error', () => {
    const ts = scheduler();
    const broken = status('UNAVAILABLE', 14);
    ts.run(({ cold, expectObservable }) => {
      const t = setup(
        ts,
        (_call, i) =>
          i === 0 ? cold('--a--#', { a: resp(ok('1')) }, broken) : cold('---#', undefined, broken),
        { reconnect: { maxAttempts: 2, initialDelayMs: 10 } },
      );
      const input = cold<ClassifyInput>('(a|)', { a: batchOf(item('1'), item('2'), item('3')) });
      expectObservable(t.run(input)).toBe(
        '--a 10ms (bc#)',
        { a: '1', b: '2:transport:UNAVAILABLE', c: '3:transport:UNAVAILABLE' },
        runError(broken),
      );
    });
  });

  it('tries UNAUTHENTICATED once more, then fails', () => {
    const ts = scheduler();
    const denied = status('UNAUTHENTICATED', 16);
    ts.run(({ cold, expectObservable }) => {
      const t = setup(ts, () => cold('---#', undefined, denied));
      expectObservable(t.run(cold('a', { a: item('1') }))).toBe(
        '------(a#)',
        { a: '1:transport:UNAUTHENTICATED' },
        runError(denied),
      );
      ts.flush();
      expect(t.events).toEqual(['0 sent 1/3', '3 reconnect 1 +0 UNAUTHENTICATED', '3 resent 1']);
    });
  });

  it.each([
    ['PERMISSION_DENIED', 7],
    ['INVALID_ARGUMENT', 3],
  ])('fails pending items at once on %s', (code, number) => {
    const ts = scheduler();
    const fatal = status(code, number);
    ts.run(({ cold, expectObservable }) => {
      const t = setup(ts, () => cold('-a-#', { a: resp(ok('1')) }, fatal));
      const input = cold<ClassifyInput>('a', { a: batchOf(item('1'), item('2')) });
      expectObservable(t.run(input)).toBe('-a-(b#)', { a: '1', b: `2:transport:${code}` }, runError(fatal));
      ts.flush();
      expect(t.calls).toHaveLength(1);
    });
  });

  it('opens again only when there is something to write after an idle stream ended', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const t = setup(ts, (call, i) => (i === 0 ? cold('--|') : echo(ts, 1)(call, i)));
      expectObservable(t.run(cold('-----(a|)', { a: item('1') }))).toBe('------(a|)', { a: '1' });
      ts.flush();
      expect(t.calls.map((c) => c.openedAt)).toEqual([0, 5]);
      expect(t.events).toEqual(['5 sent 1/3']);
    });
  });

  it('reports a fatal status of an idle stream', () => {
    const ts = scheduler();
    const fatal = status('PERMISSION_DENIED', 7);
    ts.run(({ cold, expectObservable }) => {
      const t = setup(ts, () => cold('--#', undefined, fatal));
      expectObservable(t.run(cold('-----a', { a: item('1') }))).toBe('--#', undefined, runError(fatal));
    });
  });
});

describe('classify: matching', () => {
  it('emits outcomes in input order when asked, failures from upstream included', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const responses = cold('--a---b---c', { a: resp(ok('3')), b: resp(ok('1')), c: resp(ok('2')) });
      const input = cold<ClassifyInput>('a-f|', {
        a: batchOf(item('1'), item('2'), item('3')),
        f: upstreamFailure('f'),
      });
      const values = { a: '1', b: '2', c: '3', f: 'f:read:READ_FAILED' };
      expectObservable(setup(ts, untilHalfClose(responses), { ordered: true }).run(input)).toBe(
        '------a---(bcf|)',
        values,
      );
      expectObservable(setup(ts, untilHalfClose(responses)).run(input)).toBe('--(cf)a---(b|)', values);
    });
  });

  it('routes outputs of other clients apart and drops a second output', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const t = setup(ts, untilHalfClose(cold('-a-b', { a: resp(ok('zz')), b: resp(ok('1'), ok('1')) })));
      expectObservable(t.run(cold('(a|)', { a: item('1') }))).toBe('---(a|)', { a: '1' });
      ts.flush();
      expect(t.events).toEqual(['0 sent 1/3', '1 foreign zz', '3 duplicate 1']);
      expect(t.foreign).toEqual([ok('zz')]);
    });
  });

  it('fails a per-output error at stage classify with the service code and goes on', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const t = setup(
        ts,
        untilHalfClose(cold('-a', { a: resp(bad('1', ErrorCode.ERROR_CODE_IMAGE_TOO_LARGE), ok('2')) })),
      );
      const input = cold<ClassifyInput>('(a|)', { a: batchOf(item('1'), item('2')) });
      expectObservable(t.run(input)).toBe('-(ab|)', { a: '1:classify:IMAGE_TOO_LARGE', b: '2' });
    });
  });

  it('ties a global error to the oldest batch without outputs', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const responses = cold('---a-b---c', { a: resp(ok('3')), b: globalError(), c: resp(ok('4')) });
      const t = setup(ts, untilHalfClose(responses));
      const input = cold<ClassifyInput>('ab|', {
        a: batchOf(item('1'), item('2')),
        b: batchOf(item('3'), item('4')),
      });
      expectObservable(t.run(input)).toBe('---a-(bc)(d|)', {
        a: '3',
        b: '1:classify:GLOBAL_ERROR',
        c: '2:classify:GLOBAL_ERROR',
        d: '4',
      });
      ts.flush();
      expect(t.events).toContain('5 global-error 2');
    });
  });

  it('fails every item in flight for a global error that no batch can take', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const responses = cold('--a-b-c', { a: resp(ok('1')), b: globalError(), c: globalError() });
      const t = setup(ts, untilHalfClose(responses));
      const input = cold<ClassifyInput>('a-b', { a: batchOf(item('1'), item('2')), b: item('3') });
      expectObservable(t.run(input), '^ 9ms !').toBe('--a-b-c', {
        a: '1',
        b: '3:classify:GLOBAL_ERROR',
        c: '2:classify:GLOBAL_ERROR',
      });
    });
  });

  it('keeps the global error as the cause', () => {
    const ts = scheduler();
    const outcomes: Outcome[] = [];
    ts.run(({ cold }) => {
      const fake = fakeClient(
        ts,
        untilHalfClose(cold('-a', { a: globalError(ErrorCode.ERROR_CODE_UNSPECIFIED) })),
      );
      cold<ClassifyInput>('(a|)', { a: item('1') })
        .pipe(classify(fake.client, { ...base, scheduler: ts, keepaliveMs: 0 }))
        .subscribe((o) => outcomes.push(o));
    });
    const failure = outcomes[0];
    expect(failure?.ok).toBe(false);
    if (failure?.ok !== false) return;
    expect(failure.error.code).toBe('GLOBAL_ERROR');
    expect(failure.error.cause).toMatchObject({
      code: 'UNSPECIFIED',
      message: 'batch failed',
      serviceCode: 0,
    });
  });
});

describe('classify: validation', () => {
  it('fails items that cannot be sent at stage validate and never writes them', () => {
    const ts = scheduler();
    const t = setup(ts, echo(ts, 6));
    ts.run(({ cold, expectObservable }) => {
      const input = cold<ClassifyInput>('(a|)', {
        a: batchOf(
          item(undefined, { ref: 'no-id' }),
          item('x'.repeat(64), { ref: 'long-id' }),
          item('d'),
          item('d', { ref: 'again' }),
          item('f', { format: 0 }),
          item('e', { format: 0, data: new Uint8Array(0) }),
        ),
      });
      expectObservable(t.run(input)).toBe('(abcd)(ef|)', {
        a: 'no-id:validate:INVALID_ID',
        b: `${'x'.repeat(64)}:validate:INVALID_ID`,
        c: 'd:validate:DUPLICATE_ID',
        d: 'f:validate:INVALID_INPUT',
        e: 'd',
        f: 'e',
      });
    });
    expect(t.calls[0]?.writes).toEqual([{ at: 0, ids: ['d', 'e'] }]);
  });

  it('tells to correlate items without an id', () => {
    const ts = scheduler();
    const outcomes: Outcome[] = [];
    ts.run(({ cold }) => {
      cold<ClassifyInput>('(a|)', { a: item(undefined) })
        .pipe(classify(fakeClient(ts, echo(ts, 1)).client, { ...base, scheduler: ts }))
        .subscribe((o) => outcomes.push(o));
    });
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ ok: false, stage: 'validate', ref: 'img-x' });
    expect(!outcomes[0]?.ok && outcomes[0]?.error.message).toMatch(/correlate\(\)/);
  });
});

describe('classify: flow', () => {
  it('bounds the items written and not yet emitted by maxInFlight', () => {
    const ts = scheduler();
    const t = setup(ts, echo(ts, 5), { maxInFlight: 2 });
    ts.run(({ cold, expectObservable }) => {
      const input = cold<ClassifyInput>('(abc|)', { a: item('1'), b: item('2'), c: item('3') });
      expectObservable(t.run(input)).toBe('-----(ab)-(c|)', { a: '1', b: '2', c: '3' });
    });
    expect(t.calls[0]?.writes).toEqual([
      { at: 0, ids: ['1'] },
      { at: 0, ids: ['2'] },
      { at: 5, ids: ['3'] },
    ]);
  });

  it('writes a batch larger than the window alone', () => {
    const ts = scheduler();
    const t = setup(ts, echo(ts, 5), { maxInFlight: 2 });
    ts.run(({ cold, expectObservable }) => {
      const input = cold<ClassifyInput>('(ab|)', {
        a: batchOf(item('1'), item('2'), item('3')),
        b: item('4'),
      });
      expectObservable(t.run(input)).toBe('-----(abc)(d|)', { a: '1', b: '2', c: '3', d: '4' });
    });
    expect(t.calls[0]?.writes).toEqual([
      { at: 0, ids: ['1', '2', '3'] },
      { at: 5, ids: ['4'] },
    ]);
  });

  it('counts outcomes held for ordering as in flight', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const responses = cold('-a---b---c', { a: resp(ok('2')), b: resp(ok('1')), c: resp(ok('3')) });
      const t = setup(ts, untilHalfClose(responses), { maxInFlight: 2, ordered: true });
      const input = cold<ClassifyInput>('(abc|)', { a: item('1'), b: item('2'), c: item('3') });
      expectObservable(t.run(input)).toBe('-----(ab)(c|)', { a: '1', b: '2', c: '3' });
      ts.flush();
      expect(t.calls[0]?.writes.map((w) => w.at)).toEqual([0, 0, 5]);
    });
  });

  it('releases each lease exactly once, right after its outcome is emitted', () => {
    const ts = scheduler();
    const leases = [countingLease(), countingLease(), countingLease(), countingLease()];
    const seen: number[] = [];
    ts.run(({ cold }) => {
      const [a, b, c, d] = leases;
      const input = cold<ClassifyInput>('(abc)-d|', {
        a: batchOf(item('1', { lease: a }), item('2', { lease: b })),
        b: { ...upstreamFailure('u'), lease: c },
        c: item(undefined, { lease: d }),
        d: item('4'),
      });
      input.pipe(classify(fakeClient(ts, echo(ts, 2)).client, { ...base, scheduler: ts })).subscribe((o) => {
        seen.push(o.lease === undefined ? -1 : (o.lease as ReturnType<typeof countingLease>).released);
      });
    });
    expect(seen.sort()).toEqual([-1, 0, 0, 0, 0]);
    expect(leases.map((l) => l.released)).toEqual([1, 1, 1, 1]);
  });
});

describe('classify: retries', () => {
  it('sends a retryable output error again after the backoff', () => {
    const ts = scheduler();
    let tries = 0;
    const t = setup(
      ts,
      echo(ts, 2, (id) => (tries++ === 0 ? [bad(id)] : [ok(id)])),
      {
        retry: { maxAttempts: 3, initialDelayMs: 10 },
      },
    );
    ts.run(({ cold, expectObservable }) => {
      expectObservable(t.run(cold('(a|)', { a: item('1') }))).toBe('---------(a|)', { a: '1' });
    });
    expect(t.calls[0]?.writes).toEqual([
      { at: 0, ids: ['1'] },
      { at: 7, ids: ['1'] },
    ]);
    expect(t.events).toEqual(['0 sent 1/3', '2 retry 1 #2']);
  });

  it('gives up after the policy and never retries permanent errors', () => {
    const ts = scheduler();
    const t = setup(
      ts,
      echo(ts, 1, (id) => [
        bad(id, id === 'big' ? ErrorCode.ERROR_CODE_IMAGE_TOO_LARGE : ErrorCode.ERROR_CODE_MODEL_ERROR),
      ]),
      { retry: { maxAttempts: 2, initialDelayMs: 2, retryable: () => true } },
    );
    ts.run(({ cold, expectObservable }) => {
      const input = cold<ClassifyInput>('(a|)', { a: batchOf(item('1'), item('big')) });
      expectObservable(t.run(input)).toBe('-b-(a|)', {
        a: '1:classify:MODEL_ERROR',
        b: 'big:classify:IMAGE_TOO_LARGE',
      });
    });
    expect(t.events).toEqual(['0 sent 2/6', '1 retry 1 #2']);
  });

  it('takes an output that comes while its item waits to be sent again', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      // The global error was meant for 2, but 1 is the oldest batch without output: 1 is failed, waits
      // to be retried, and its real output then arrives; 2 never gets one.
      const responses = cold('--g-a', { g: globalError(), a: resp(ok('1')) });
      const t = setup(ts, untilHalfClose(responses), { itemTimeoutMs: 300, retry: { initialDelayMs: 100 } });
      const input = cold<ClassifyInput>('(ab|)', { a: item('1'), b: item('2') });
      expectObservable(t.run(input)).toBe('----a 295ms (b|)', { a: '1', b: '2:timeout:TIMEOUT' });
      ts.flush();
      expect(t.calls[0]?.writes).toEqual([
        { at: 0, ids: ['1'] },
        { at: 0, ids: ['2'] },
      ]);
      expect(t.events).toEqual(['0 sent 1/3', '0 sent 1/3', '2 global-error 1', '2 retry 1 #2']);
    });
  });

  it('sends items failed by a global error again under the policy', () => {
    const ts = scheduler();
    const t = setup(ts, globalThenEcho(ts), { retry: { initialDelayMs: 4 } });
    ts.run(({ cold, expectObservable }) => {
      const input = cold<ClassifyInput>('(a|)', { a: batchOf(item('1'), item('2')) });
      expectObservable(t.run(input)).toBe('----(ab|)', { a: '1', b: '2' });
    });
    expect(t.calls[0]?.writes).toEqual([
      { at: 0, ids: ['1', '2'] },
      { at: 3, ids: ['1'] },
      { at: 3, ids: ['2'] },
    ]);
    expect(t.events).toEqual(['0 sent 2/6', '1 global-error 2', '1 retry 1 #2', '1 retry 2 #2']);
  });
});

describe('classify: a run of 32 with one bad image', () => {
  it('gives 31 classified and 1 failure and the stream goes on', () => {
    const ts = scheduler();
    const outcomes: Outcome[] = [];
    const fake = fakeClient(
      ts,
      echo(ts, 5, (id) => [id === '17' ? bad(id, ErrorCode.ERROR_CODE_IMAGE_TOO_LARGE) : ok(id)]),
    );
    let completed = false;
    ts.run(({ cold }) => {
      const items = Array.from({ length: 32 }, (_, i) => item(String(i), { index: i }));
      const batches = [0, 8, 16, 24].map((n) => batchOf(...items.slice(n, n + 8)));
      cold<ClassifyInput>('a-b-c-d|', { a: batches[0], b: batches[1], c: batches[2], d: batches[3] } as never)
        .pipe(classify(fake.client, { ...base, scheduler: ts, retry: {} }))
        .subscribe({ next: (o) => outcomes.push(o), complete: () => (completed = true) });
    });
    expect(completed).toBe(true);
    expect(outcomes).toHaveLength(32);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(31);
    const failures = outcomes.filter((o) => !o.ok);
    expect(failures).toMatchObject([{ correlationId: '17', index: 17, stage: 'classify', ref: 'img-17' }]);
    expect(new Set(outcomes.map((o) => o.index)).size).toBe(32);
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]?.writes.map((w) => w.ids.length)).toEqual([8, 8, 8, 8]);
  });
});

describe('classify: input errors', () => {
  it('lets pending items finish, then reports the error of the input', () => {
    const ts = scheduler();
    const oops = new Error('source failed');
    const t = setup(ts, echo(ts, 3));
    ts.run(({ cold, expectObservable }) => {
      expectObservable(t.run(cold('a#', { a: item('1') }, oops))).toBe('---(a#)', { a: '1' }, oops);
    });
    expect(t.calls[0]?.halfClosedAt).toBe(3);
  });
});

/** Answers the first request with a global error, and every later one with its outputs, a frame later. */
function globalThenEcho(ts: TestScheduler): Responder {
  return (call) => {
    const subject = new Subject<ClassifyResponse>();
    let first = true;
    call.requests.subscribe({
      next: (request) => {
        if (request.inputs.length === 0) return;
        const answer = first ? globalError() : resp(...request.inputs.map((i) => ok(i.correlationId)));
        first = false;
        ts.schedule(() => subject.next(answer), 1);
      },
      complete: () => subject.complete(),
    });
    return subject;
  };
}

describe('classify: observers that throw', () => {
  it('keeps going when the events or foreign observer throws, and reports what they threw', () => {
    const ts = scheduler();
    const reported: unknown[] = [];
    const previous = rxConfig.onUnhandledError;
    rxConfig.onUnhandledError = (error) => reported.push(error);
    try {
      ts.run(({ cold, expectObservable }) => {
        const fake = fakeClient(ts, untilHalfClose(cold('-a', { a: resp(ok('zz'), ok('1')) })));
        const boom = () => {
          throw new Error('observer failed');
        };
        const operator = classify(fake.client, {
          ...base,
          scheduler: ts,
          keepaliveMs: 0,
          events: { next: boom },
          foreign: { next: boom },
        });
        expectObservable(cold<ClassifyInput>('(a|)', { a: item('1') }).pipe(operator, show())).toBe('-(a|)', {
          a: '1',
        });
      });
    } finally {
      rxConfig.onUnhandledError = previous;
    }
    expect(reported.length).toBe(3);
  });
});
