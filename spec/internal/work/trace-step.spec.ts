/**
 * `tracedStep`: an image without a trace costs a branch (the work itself is returned); with one, the
 * step is recorded once, from subscription to the first value, with a failure's or an error's code.
 */
import { of, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { AthenaError } from '../../../src/errors.js';
import { tracedStep } from '../../../src/internal/work/trace-step.js';
import { toFailure } from '../../../src/model.js';
import type { ImagePhase, ImageTrace } from '../../../src/telemetry/options.js';

function recorder(now: () => number) {
  const steps: { phase: ImagePhase; from: number; to: number; error: string | undefined }[] = [];
  const trace: ImageTrace = {
    now,
    phase: (phase, from, error) => steps.push({ phase, from, to: now(), error }),
    waiting: () => undefined,
    written: () => undefined,
    end: () => undefined,
    toJSON: () => undefined,
  };
  return { trace, steps };
}

describe('tracedStep', () => {
  it('returns the work itself for an image without a trace', () => {
    const work$ = of(1);
    expect(tracedStep(undefined, 'hash', work$)).toBe(work$);
  });

  it('records the step from subscription to the first value, once', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    const { trace, steps } = recorder(() => scheduler.now());
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(tracedStep(trace, 'compress', cold('--a-b|')), '---^').toBe('-----a-b|');
    });
    expect(steps).toEqual([{ phase: 'compress', from: 3, to: 5, error: undefined }]);
  });

  it('records nothing for a step unsubscribed before it answered', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    const { trace, steps } = recorder(() => scheduler.now());
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(tracedStep(trace, 'hash', cold('----a|')), '^--!').toBe('---');
    });
    expect(steps).toEqual([]);
  });

  it('records the code of a failure value and of an error', () => {
    const { trace, steps } = recorder(() => 0);
    const failure = toFailure({ ref: 'a' }, 'decode', new AthenaError('DECODE_FAILED', 'no'));
    tracedStep(trace, 'prepare', of(failure)).subscribe();
    tracedStep(
      trace,
      'hash',
      throwError(() => new AthenaError('INVALID_INPUT', 'no')),
    ).subscribe({
      error: () => undefined,
    });
    expect(steps.map((s) => [s.phase, s.error])).toEqual([
      ['prepare', 'DECODE_FAILED'],
      ['hash', 'INVALID_INPUT'],
    ]);
  });
});
