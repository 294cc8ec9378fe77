import { type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  type ClassificationInput,
  type ClassificationOutput,
} from '../../src/generated/athena/models.js';
import type { Outcome } from '../../src/model.js';
import { type ClassifyInput } from '../../src/operators/classify.js';
import { classifyEach, type ClassifyEachOptions } from '../../src/operators/classifyEach.js';
import type { ClassifySingleClient } from '../../src/transport/contracts.js';
import { bad, batchOf, countingLease, item, ok, show, status, upstreamFailure } from './classify.fake.js';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** A unary client answering each correlation id with the next Observable the test gave for it. */
function fakeSingle(answers: Record<string, Observable<ClassificationOutput>[]>) {
  const calls: { id: string; deadlineMs: number | undefined; input: ClassificationInput }[] = [];
  const client: ClassifySingleClient = {
    classifySingle(input, options) {
      calls.push({ id: input.correlationId, deadlineMs: options?.deadlineMs, input });
      const next = answers[input.correlationId]?.shift();
      if (next === undefined) throw new Error(`no answer left for ${input.correlationId}`);
      return next;
    },
  };
  return { client, calls };
}

const base: ClassifyEachOptions = { affiliate: 'aff' };

describe('classifyEach: factory', () => {
  const { client } = fakeSingle({});
  it.each([
    [{ affiliate: '' }, RangeError],
    [{ affiliate: 1 }, TypeError],
    [{ ...base, concurrency: 0 }, RangeError],
    [{ ...base, concurrency: 1.5 }, TypeError],
    [{ ...base, deadlineMs: 0 }, RangeError],
    [{ ...base, retry: { maxAttempts: 0 } }, RangeError],
  ])('rejects %o', (options, type) => {
    expect(() => classifyEach(client, options as ClassifyEachOptions)).toThrow(type);
  });

  it('needs a client with classifySingle', () => {
    expect(() => classifyEach({} as never, base)).toThrow(TypeError);
  });
});

describe('classifyEach: marbles', () => {
  it('completes at once for an empty input', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold<ClassifyInput>('|').pipe(classifyEach(fakeSingle({}).client, base))).toBe('|');
    });
  });

  it('calls once per item with the wire input and the deadline, batches taken apart', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const fake = fakeSingle({
        '1': [cold('--a|', { a: ok('1') })],
        '2': [cold('----a|', { a: ok('2') })],
        '3': [cold('------a|', { a: ok('3') })],
      });
      const input = cold<ClassifyInput>('a-(bf)|', {
        a: item('1'),
        b: batchOf(item('2'), item('3')),
        f: upstreamFailure('u'),
      });
      const output = input.pipe(
        classifyEach(fake.client, { ...base, scheduler: ts, deadlineMs: 500 }),
        show(),
      );
      expectObservable(output).toBe('--(fa)b-(c|)', { a: '1', b: '2', c: '3', f: 'u:read:READ_FAILED' });
      ts.flush();
      expect(fake.calls.map((c) => [c.id, c.deadlineMs])).toEqual([
        ['1', 500],
        ['2', 500],
        ['3', 500],
      ]);
      expect(fake.calls[0]?.input).toMatchObject({ affiliate: 'aff', correlationId: '1', format: 19 });
    });
  });
  it('bounds the calls in flight by concurrency', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const answers = {
        '1': cold('---a|', { a: ok('1') }),
        '2': cold('-a|', { a: ok('2') }),
        '3': cold('-a|', { a: ok('3') }),
      };
      const fake = fakeSingle({ '1': [answers['1']], '2': [answers['2']], '3': [answers['3']] });
      const input = cold<ClassifyInput>('(abc|)', { a: item('1'), b: item('2'), c: item('3') });
      expectObservable(input.pipe(classifyEach(fake.client, { ...base, concurrency: 2 }), show())).toBe(
        '-bc(a|)',
        { a: '1', b: '2', c: '3' },
      );
      expectSubscriptions(answers['3'].subscriptions).toBe('-^!');
    });
  });

  it('fails bad outputs at stage classify and failed calls at stage transport or timeout', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const fake = fakeSingle({
        '1': [cold('-a|', { a: bad('1', ErrorCode.ERROR_CODE_AFFILIATE_NOT_PERMITTED) })],
        '2': [cold('-#', undefined, status('PERMISSION_DENIED', 7))],
        '3': [cold('-#', undefined, status('DEADLINE_EXCEEDED', 4))],
        '4': [cold('-|')],
      });
      const input = cold<ClassifyInput>('(a|)', { a: batchOf(item('1'), item('2'), item('3'), item('4')) });
      expectObservable(input.pipe(classifyEach(fake.client, base), show())).toBe('-(abcd|)', {
        a: '1:classify:AFFILIATE_NOT_PERMITTED',
        b: '2:transport:PERMISSION_DENIED',
        c: '3:timeout:DEADLINE_EXCEEDED',
        d: '4:transport:UNKNOWN',
      });
    });
  });

  it('fails items that cannot be sent at stage validate without calling', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const fake = fakeSingle({});
      const input = cold<ClassifyInput>('(ab|)', {
        a: item(undefined, { ref: 'r' }),
        b: item('2', { format: 0 }),
      });
      expectObservable(input.pipe(classifyEach(fake.client, base), show())).toBe('(ab|)', {
        a: 'r:validate:INVALID_ID',
        b: '2:validate:INVALID_INPUT',
      });
      ts.flush();
      expect(fake.calls).toEqual([]);
    });
  });

  it('retries retryable failures after the backoff, up to the policy, never permanent ones', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const fake = fakeSingle({
        '1': [
          cold('-a|', { a: bad('1') }),
          cold('-#', undefined, status('UNAVAILABLE', 14)),
          cold('-a|', { a: ok('1') }),
        ],
        '2': [cold('-a|', { a: bad('2') }), cold('-a|', { a: bad('2') }), cold('-a|', { a: bad('2') })],
        '3': [cold('-a|', { a: bad('3', ErrorCode.ERROR_CODE_IMAGE_TOO_LARGE) })],
      });
      const input = cold<ClassifyInput>('(abc|)', { a: item('1'), b: item('2'), c: item('3') });
      const retry = { maxAttempts: 3, initialDelayMs: 10, multiplier: 2 };
      const options = { ...base, scheduler: ts, random: () => 0.5, retry };
      // 1 fails at 1, waits 5, fails at 7, waits 10, is classified at 18; 2 fails on all 3 attempts.
      expectObservable(input.pipe(classifyEach(fake.client, options), show())).toBe('-c 16ms (ab|)', {
        a: '1',
        b: '2:classify:MODEL_ERROR',
        c: '3:classify:IMAGE_TOO_LARGE',
      });
    });
  });

  it('leaves UNAUTHENTICATED to the client: no call of its own again', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const denied = status('UNAUTHENTICATED', 16);
      const fake = fakeSingle({ '1': [cold('-#', undefined, denied)] });
      const options = { ...base, scheduler: ts, retry: {} };
      expectObservable(
        cold<ClassifyInput>('(a|)', { a: item('1') }).pipe(classifyEach(fake.client, options), show()),
      ).toBe('-(a|)', { a: '1:transport:UNAUTHENTICATED' });
    });
  });

  it('cancels calls in flight and backoff timers on unsubscribe, with a never-ending input', () => {
    const ts = scheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const slow = cold<ClassificationOutput>('-----a|', { a: ok('1') });
      const fake = fakeSingle({
        '1': [slow],
        '2': [cold('-a|', { a: bad('2') }), cold('a|', { a: ok('2') })],
      });
      const input = hot<ClassifyInput>('-ab--', { a: item('1'), b: item('2') });
      const options = { ...base, scheduler: ts, random: () => 0.5, retry: { initialDelayMs: 100 } };
      expectObservable(input.pipe(classifyEach(fake.client, options), show()), '^---!').toBe('');
      expectSubscriptions(slow.subscriptions).toBe('-^--!');
      ts.flush();
      expect(fake.calls.map((c) => c.id)).toEqual(['1', '2']);
    });
  });

  it('releases each lease once, right after its outcome is emitted', () => {
    const ts = scheduler();
    const leases = [countingLease(), countingLease(), countingLease()];
    const atEmit: number[] = [];
    ts.run(({ cold }) => {
      const fake = fakeSingle({ '1': [cold('-a|', { a: ok('1') })] });
      const [a, b, c] = leases;
      cold<ClassifyInput>('(abc|)', {
        a: item('1', { lease: a }),
        b: { ...upstreamFailure('u'), lease: b },
        c: item(undefined, { lease: c }),
      })
        .pipe(classifyEach(fake.client, base))
        .subscribe((o: Outcome) => atEmit.push((o.lease as ReturnType<typeof countingLease>).released));
    });
    expect(atEmit).toEqual([0, 0, 0]);
    expect(leases.map((l) => l.released)).toEqual([1, 1, 1]);
  });
});

describe('classifyEach: never-ending input', () => {
  it('goes on emitting while the input stays open', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const fake = fakeSingle({ '1': [cold('-a|', { a: ok('1') })] });
      const input = cold<ClassifyInput>('a', { a: item('1') });
      expectObservable(input.pipe(classifyEach(fake.client, base), show())).toBe('-a', { a: '1' });
    });
  });
});
