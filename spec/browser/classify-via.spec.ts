import { catchError, map, of, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it, vi } from 'vitest';
import { classifyVia, type ViaInput } from '../../src/browser/classify-via.js';
import { AthenaError } from '../../src/errors.js';
import { toFailure, type Outcome } from '../../src/model.js';
import { item, scriptedGateway, type Script } from '../internal/via/helpers.js';

const URL = 'ws://127.0.0.1:1/athena?ticket=secret-ticket';

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** Outcomes as letters: the id for a success, the stage's first letter in upper case for a failure. */
function letters(outcomes: Observable<Outcome>): Observable<string> {
  return outcomes.pipe(map((o) => (o.ok ? (o.correlationId ?? '?') : (o.stage[0] ?? '?').toUpperCase())));
}

function setup(ts: TestScheduler, script: Script, options = {}) {
  const gateway = scriptedGateway(ts, script);
  const operator = classifyVia(URL, {
    webSocket: gateway.factory,
    scheduler: ts,
    random: () => 0.5,
    reconnect: { initialDelayMs: 4, maxDelayMs: 4, maxAttempts: 3 },
    itemTimeoutMs: 50,
    ...options,
  });
  return { gateway, operator };
}

const values = { a: item('a'), b: item('b'), c: item('c'), d: item('d') };

describe('classifyVia (marbles)', () => {
  it('completes at once on empty input, opening no socket', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const { gateway, operator } = setup(ts, { helloAfter: 1, answerAfter: 1 });
      expectObservable(letters(cold<ViaInput>('|').pipe(operator))).toBe('|');
      expect(gateway.sockets).toHaveLength(0);
    });
  });

  it('emits one outcome per image, in the order the gateway answers, and completes after the last', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, flush }) => {
      const { gateway, operator } = setup(ts, { helloAfter: 2, answerAfter: 3 });
      const failure = toFailure(item('f'), 'decode', new AthenaError('DECODE_FAILED', 'bad'));
      const input = cold('a-b-f-c|', { ...values, f: failure });
      expectObservable(letters(input.pipe(operator))).toBe('----D(ab)(c|)');
      flush();
      expect(gateway.log).toEqual(['1>a', '1>b', '1>c', '1:close']);
    });
  });

  it('re-sends unanswered images on a new socket after a drop: nothing lost, nothing twice', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, flush }) => {
      const { gateway, operator } = setup(ts, { helloAfter: 1, answerAfter: 5, dropAt: [4] });
      expectObservable(letters(cold('a-b-c|', values).pipe(operator))).toBe('------------(ab)-(c|)');
      flush();
      expect(gateway.log).toEqual(['1>a', '1>b', '1:drop', '2>a', '2>b', '2>c', '2:close']);
    });
  });

  it('fails pending images at stage transport and errors when the gateway refuses the connection', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const { operator } = setup(ts, { helloAfter: 1, answerAfter: 1, refuse: 4401 });
      const run = letters(cold('a-b|', values).pipe(operator)).pipe(
        catchError((error: AthenaError) => of(`!${error.code}`)),
      );
      expectObservable(run).toBe('-(TE|)', { T: 'T', E: '!UNAUTHENTICATED' });
    });
  });

  it('fails an image with no outcome itemTimeoutMs after its send at stage timeout', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const { operator } = setup(ts, { helloAfter: 1, answerAfter: 500 });
      expectObservable(letters(cold('a|', values).pipe(operator))).toBe('51ms (T|)');
    });
  });

  it('closes the socket and emits nothing more when unsubscribed early', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, flush }) => {
      const { gateway, operator } = setup(ts, { helloAfter: 1, answerAfter: 10 });
      expectObservable(letters(cold('a-b-c-d|', values).pipe(operator)), '^--!').toBe('---');
      flush();
      expect(gateway.log).toEqual(['1>a', '1>b', '1:close']);
    });
  });

  it('errors with the source error once the pending images have their outcomes', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const { operator } = setup(ts, { helloAfter: 1, answerAfter: 3 });
      expectObservable(letters(cold('a-#', values).pipe(operator))).toBe('----(a#)');
    });
  });

  it('looks the global WebSocket up only when a socket is needed; without one, fails at transport', () => {
    vi.stubGlobal('WebSocket', undefined);
    try {
      const ts = testScheduler();
      const operator = classifyVia(URL, { scheduler: ts });
      ts.run(({ cold, expectObservable }) => {
        const run = letters(cold('a|', values).pipe(operator)).pipe(
          catchError((error: AthenaError) => of(`!${error.code}`)),
        );
        expectObservable(run).toBe('(TE|)', { T: 'T', E: '!UNIMPLEMENTED' });
      });
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('checks its arguments when called', () => {
    const webSocket = scriptedGateway(testScheduler(), { helloAfter: 1, answerAfter: 1 }).factory;
    expect(() => classifyVia('http://127.0.0.1/athena', { webSocket })).toThrow(RangeError);
    expect(() => classifyVia('not a url?ticket=secret', { webSocket })).toThrow(/not a url\?<redacted>/);
    expect(() => classifyVia(URL, { webSocket, maxInFlight: 0 })).toThrow(RangeError);
    expect(() => classifyVia(URL, { webSocket: 'ws' as never })).toThrow(TypeError);
  });
});
