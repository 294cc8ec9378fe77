/**
 * Transition tests of the classify core: a state built by `initialState`, events with explicit times,
 * and the state and effects `step` returns, for the faults seen in the field.
 */
import { describe, expect, it } from 'vitest';
import { AthenaError } from '../../../src/errors.js';
import { ErrorCode } from '../../../src/generated/athena/models.js';
import { batchOf, globalError, item, ok, bad, resp, status } from '../../operators/classify.fake.js';
import { phases, session } from './session.fake.js';

/** A session with call 1 open at `at`. */
function openSession(options: Parameters<typeof session>[0] = {}, at = 0, acknowledgesWrites = false) {
  const s = session(options, { acknowledgesWrites });
  expect(s.tick(at)).toEqual(['open 1', `wake ${at + s.state.config.reconnect.budgetMs}`]);
  s.opened(at, 1);
  return s;
}

const input = (s: ReturnType<typeof session>, now: number, ...ids: string[]) =>
  s.send(now, {
    type: 'input',
    value: ids.length === 1 ? item(ids[0]) : batchOf(...ids.map((id) => item(id))),
  });

const response = (s: ReturnType<typeof session>, now: number, stream: number, r = resp()) =>
  s.send(now, { type: 'response', stream, response: r });

describe('step: a service outage', () => {
  it.each(['refused while opening', 'ended with UNAVAILABLE after opening'])(
    'a stream %s again and again is reopened with capped backoff for the whole budget, then the run fails',
    (how) => {
      const refused = how.startsWith('refused');
      const s = session({ random: () => 0.999, itemTimeoutMs: 1_000_000, keepaliveMs: 0 });
      s.tick(0);
      input(s, 0, 'a');
      const delays: number[] = [];
      let firstBreak: number | undefined;
      let now = 0;
      let failedAt: number | undefined;
      for (let i = 0; i < 1_000 && failedAt === undefined; i += 1) {
        const { stream, wakeAt } = s.state;
        let out: string[];
        if (stream.tag === 'opening' && (wakeAt === undefined || now + 1 < wakeAt)) {
          now += 1;
          if (refused) {
            out = s.ended(now, stream.id, status('UNAVAILABLE', 14));
          } else {
            expect(s.opened(now, stream.id)).toContain(`write ${stream.id}#${stream.id} [a]`);
            now += 1;
            out = s.ended(now, stream.id, status('UNAVAILABLE', 14));
          }
        } else {
          expect(wakeAt).toBeDefined();
          now = Math.max(now, wakeAt as number);
          out = s.tick(now);
        }
        for (const line of out) {
          const m = /^reconnect #(\d+) \+(\d+) UNAVAILABLE$/.exec(line);
          if (m) {
            firstBreak ??= now;
            delays.push(Number(m[2]));
            // The only timer is the backoff: the image has no deadline before it is written.
            expect(s.state.wakeAt).toBe(now + Number(m[2]));
          }
        }
        if (out.some((line) => line.startsWith('error'))) failedAt = now;
      }
      expect(firstBreak).toBeDefined();
      // The budget runs from the first wait that broke: the opening of the first call when it never opened.
      const budgetFrom = refused ? 0 : (firstBreak as number);
      expect(failedAt).toBeGreaterThanOrEqual(budgetFrom + 120_000);
      expect(failedAt).toBeLessThanOrEqual(budgetFrom + 120_000 + 5_000 + 2);
      expect(Math.max(...delays)).toBeLessThanOrEqual(5_000);
      expect(delays.slice(0, 7)).toEqual([249, 499, 999, 1998, 3996, 4995, 4995]);
      expect(delays.length).toBeGreaterThan(20);
      const end = s.shown.filter((line) => /emit|error/.test(line));
      expect(end).toEqual([`${failedAt} emit a:transport:UNAVAILABLE`, `${failedAt} error UNAVAILABLE`]);
      if (refused) expect(s.shown.some((line) => line.includes('write'))).toBe(false);
    },
  );

  it('five quick failures no longer end the run', () => {
    const s = session({ random: () => 0 });
    s.tick(0);
    input(s, 0, 'a');
    for (let k = 1; k <= 5; k += 1) {
      expect(s.ended(k, k, status('UNAVAILABLE', 14))).toEqual([
        `reconnect #${k} +0 UNAVAILABLE`,
        `wake ${k}`,
      ]);
      expect(s.tick(k)).toEqual([`open ${k + 1}`, `wake ${120_000}`]);
    }
    expect(s.opened(6, 6)).toEqual(['write 6#1 [a]', 'sent', 'wake 15006']);
    expect(s.state.streak).toMatchObject({ attempt: 5, since: 0 });
  });
});

describe('step: a graceful server shutdown', () => {
  it('a call ended with CANCELLED that we did not cancel is opened again and its images re-sent', () => {
    const s = openSession({ random: () => 0.5, keepaliveMs: 0 });
    expect(input(s, 0, 'a')).toEqual(['write 1#1 [a]', 'sent', 'wake 30000']);
    expect(s.ended(100, 1, status('CANCELLED', 1))).toEqual(['reconnect #1 +125 CANCELLED', 'wake 225']);
    expect(s.state.stream).toEqual({ tag: 'backoff', until: 225 });
    // The next wake is the image's deadline, from its first write at 0.
    expect(s.tick(225)).toEqual(['open 2', 'wake 120000']);
    expect(s.opened(230, 2)).toEqual(['write 2#2 [a]', 'resent', 'wake 30230']);
    expect(response(s, 240, 2, resp(ok('a')))).toEqual(['emit a', 'wake none']);
  });

  it('a status that is not worth a reconnect ends the run at once', () => {
    const s = openSession({ keepaliveMs: 0 });
    input(s, 0, 'a');
    expect(s.ended(100, 1, status('PERMISSION_DENIED', 7))).toEqual([
      'emit a:transport:PERMISSION_DENIED',
      'error PERMISSION_DENIED',
      'wake none',
    ]);
  });
});

describe('step: a silent stall', () => {
  it('no response for stallTimeoutMs cancels the call, and the images go again under their ids', () => {
    const s = openSession({ keepaliveMs: 0 });
    expect(input(s, 0, 'a', 'b')).toEqual(['write 1#1 [a,b]', 'sent', 'wake 30000']);
    expect(s.tick(29_999)).toEqual(['wake 30000']); // nothing due yet: the spent timer is set again
    expect(s.tick(30_000)).toEqual([
      'stall 30000ms 2',
      'cancel 1',
      'reconnect #1 +125 STALLED',
      'wake 30125',
    ]);
    expect(phases(s.state)).toEqual({ a: 'queued', b: 'queued' });
    expect(s.tick(30_125)).toEqual(['open 2', 'wake 120000']);
    expect(s.opened(30_130, 2)).toEqual(['write 2#2 [a,b]', 'resent', 'wake 60130']);
    expect(response(s, 30_140, 2, resp(ok('b'), ok('a')))).toEqual(['emit b', 'emit a', 'wake none']);
  });

  it('a response restarts the stall watch', () => {
    const s = openSession({ keepaliveMs: 0 });
    input(s, 0, 'a', 'b');
    expect(response(s, 20_000, 1, resp(ok('a')))).toEqual(['emit a', 'wake 50000']);
    expect(s.tick(30_000)).toEqual(['wake 50000']);
    expect(s.tick(50_000)).toEqual(expect.arrayContaining(['stall 30000ms 1', 'cancel 1']));
  });

  it("a request's bytes leaving the client restart the watch: a slow upload is no stall", () => {
    const s = openSession({ keepaliveMs: 0 }, 0, true);
    expect(input(s, 0, 'a')).toEqual(['write 1#1 [a]', 'sent', 'wake 30000']);
    expect(s.send(20_000, { type: 'written', stream: 1, request: 1 })).toEqual(['wake 50000']);
    expect(s.tick(30_000)).toEqual(['wake 50000']);
    expect(s.tick(50_000)).toEqual(expect.arrayContaining(['stall 30000ms 1', 'cancel 1']));
  });

  it('stallTimeoutMs 0 turns the watch off: only the item deadline remains', () => {
    const s = openSession({ keepaliveMs: 0, stallTimeoutMs: 0 });
    expect(input(s, 0, 'a')).toEqual(['write 1#1 [a]', 'sent', 'wake 120000']);
    expect(s.tick(60_000)).toEqual(['wake 120000']);
    expect(s.tick(120_000)).toEqual(['emit a:timeout:TIMEOUT', 'wake none']);
    expect(s.state.stream.tag).toBe('open');
  });
});

describe('step: one deadline per image', () => {
  it('runs from the first write across re-sends on a stream that resets every second', () => {
    const s = openSession({ random: () => 0, keepaliveMs: 0, itemTimeoutMs: 10_000 });
    input(s, 0, 'a');
    s.send(0, { type: 'input-end' });
    for (let k = 1; k <= 9; k += 1) {
      const at = k * 1_000;
      expect(s.ended(at, k, status('UNAVAILABLE', 14))).toContain(`reconnect #${k} +0 UNAVAILABLE`);
      s.tick(at);
      expect(s.opened(at, k + 1)).toEqual(expect.arrayContaining([`write ${k + 1}#${k + 1} [a]`, 'resent']));
      expect(s.state.wakeAt).toBe(10_000);
    }
    expect(s.tick(10_000)).toEqual(['emit a:timeout:TIMEOUT', 'half-close 10', 'wake 20000']);
    expect(s.ended(10_001, 10)).toEqual(['complete', 'wake none']);
  });

  it('a foreign output does not reset the reconnect streak; an output for our own image does', () => {
    const s = openSession({ random: () => 0, keepaliveMs: 0 });
    input(s, 0, 'a');
    expect(s.ended(100, 1, status('UNAVAILABLE', 14))[0]).toBe('reconnect #1 +0 UNAVAILABLE');
    s.tick(100);
    s.opened(100, 2);
    expect(response(s, 150, 2, resp(ok('x')))).toEqual(['foreign x', 'foreign-output x', 'wake 30150']);
    expect(s.state.streak).toMatchObject({ attempt: 1, since: 100 });
    expect(s.ended(200, 2, status('UNAVAILABLE', 14))[0]).toBe('reconnect #2 +0 UNAVAILABLE');
    s.tick(200);
    s.opened(200, 3);
    expect(response(s, 250, 3, resp(ok('a')))).toEqual(['emit a', 'wake none']);
    expect(s.state.streak).toMatchObject({ attempt: 0, since: undefined });
    input(s, 260, 'b');
    expect(s.ended(300, 3, status('UNAVAILABLE', 14))[0]).toBe('reconnect #1 +0 UNAVAILABLE');
  });
});

describe('step: bounded bytes with writes acknowledged late', () => {
  it('holds outcomes that come before the ack, with their slots, until the ack or the end of the call', () => {
    const s = openSession({ maxInFlight: 2, keepaliveMs: 0 }, 0, true);
    expect(input(s, 0, 'a')[0]).toBe('write 1#1 [a]');
    expect(input(s, 0, 'b')[0]).toBe('write 1#2 [b]');
    expect(input(s, 0, 'c')).toEqual([]);
    const storm = [globalError(), globalError(), globalError(ErrorCode.ERROR_CODE_UNSPECIFIED)];
    expect(response(s, 10, 1, storm[0])).toEqual(['global-error 1', 'wake 30010']);
    expect(response(s, 11, 1, storm[1])).toEqual(['global-error 1', 'wake none']);
    expect(response(s, 12, 1, storm[2])).toEqual(['global-error 0']);
    expect(s.state.occupied).toBe(2);
    expect(phases(s.state)).toEqual({ c: 'waiting' });
    // The bytes of request 1 left: its outcome goes out, and its slot takes c in.
    expect(s.send(20, { type: 'written', stream: 1, request: 1 })).toEqual([
      'emit a:classify:GLOBAL_ERROR',
      'write 1#3 [c]',
      'sent',
      'wake 30020',
    ]);
    expect(s.state.occupied).toBe(2);
    // The call ends before request 2 is acknowledged: its bytes are gone with it.
    expect(s.ended(30, 1, status('UNAVAILABLE', 14))).toEqual([
      'emit b:classify:GLOBAL_ERROR',
      'reconnect #1 +125 UNAVAILABLE',
      'wake 155',
    ]);
    expect(s.state.occupied).toBe(1);
    expect(phases(s.state)).toEqual({ c: 'queued' });
  });
});

describe('step: images never sent never time out', () => {
  it('while the call is opening nothing is written and no item deadline runs; past the budget all fail at transport', () => {
    const s = session({ itemTimeoutMs: 1_000 });
    s.tick(0);
    expect(input(s, 0, 'a', 'b')).toEqual([]);
    for (const at of [1_000, 5_000, 60_000, 119_999]) expect(s.tick(at)).toEqual(['wake 120000']);
    expect(s.state.wakeAt).toBe(120_000);
    expect(s.tick(120_000)).toEqual([
      'cancel 1',
      'emit a:transport:UNAVAILABLE',
      'emit b:transport:UNAVAILABLE',
      'error UNAVAILABLE',
      'wake none',
    ]);
    expect(s.shown.some((line) => /write|timeout/.test(line))).toBe(false);
  });
});

describe('step: an honest end', () => {
  it('when the budget is spent every image taken in fails once at transport before the error, which counts them', () => {
    const lease = { release: () => undefined, source: { unread: () => 7 } };
    const s = openSession({
      maxInFlight: 3,
      keepaliveMs: 0,
      itemTimeoutMs: 60_000,
      retry: { maxAttempts: 3, initialDelayMs: 10_000, maxDelayMs: 10_000 },
      reconnect: { budgetMs: 1_000, initialDelayMs: 100, maxDelayMs: 100 },
    });
    input(s, 0, 'a');
    input(s, 0, 'b');
    input(s, 0, 'c');
    input(s, 0, 'd');
    s.send(0, { type: 'input', value: item('e', { lease }) });
    expect(response(s, 10, 1, resp(bad('a')))).toContain('retry');
    expect(s.ended(20, 1, status('UNAVAILABLE', 14))[0]).toBe('reconnect #1 +50 UNAVAILABLE');
    // b and c were written and are queued again, a waits for its retry, d and e for a slot.
    expect(phases(s.state)).toEqual({ a: 'backoff', b: 'queued', c: 'queued', d: 'waiting', e: 'waiting' });
    let now = 20;
    let last: string[] = [];
    for (let i = 0; i < 100 && s.state.stream.tag !== 'over'; i += 1) {
      const { stream, wakeAt } = s.state;
      if (stream.tag === 'opening' && now + 10 < (wakeAt as number)) {
        now += 10;
        last = s.ended(now, stream.id, status('UNAVAILABLE', 14));
      } else {
        now = Math.max(now, wakeAt as number);
        last = s.tick(now);
      }
    }
    expect(now).toBeGreaterThanOrEqual(1_020);
    expect(now).toBeLessThan(1_200);
    const emits = last.filter((line) => line.startsWith('emit'));
    expect(emits).toEqual(['a', 'b', 'c', 'd', 'e'].map((id) => `emit ${id}:transport:UNAVAILABLE`));
    expect(last.indexOf('error UNAVAILABLE')).toBeGreaterThan(last.lastIndexOf(emits[4] as string));
    expect(s.shown.filter((line) => line.includes('emit'))).toHaveLength(5);
    expect(s.state.occupied).toBe(0);
  });

  it.each([
    [{ unread: 7 }, false, '(2 images taken in failed at stage transport; 7 inputs were never read)'],
    [
      undefined,
      false,
      '(2 images taken in failed at stage transport; the inputs the source had not read yet were never read)',
    ],
    [{ unread: 7 }, true, '(2 images taken in failed at stage transport; 0 inputs were never read)'],
  ])('the error says how many inputs were never read (lease %o, input done %s)', (count, done, text) => {
    const s = openSession({ keepaliveMs: 0 });
    const lease = { release: () => undefined, ...(count ? { source: { unread: () => count.unread } } : {}) };
    s.send(0, { type: 'input', value: batchOf(item('a', { lease }), item('b', { lease })) });
    if (done) s.send(0, { type: 'input-end' });
    const error = new AthenaError('PERMISSION_DENIED', 'denied', { status: 7 });
    expect(s.ended(5, 1, error)).toEqual([
      'emit a:transport:PERMISSION_DENIED',
      'emit b:transport:PERMISSION_DENIED',
      'error PERMISSION_DENIED',
      'wake none',
    ]);
    const failure = s.effects.find((e) => e.type === 'error');
    expect((failure?.error as AthenaError).message).toBe(`denied ${text}`);
    expect((failure?.error as AthenaError).cause).toBe(error);
    expect((failure?.error as AthenaError).status).toBe(7);
  });
});

describe('step: calls and timers', () => {
  it('UNAUTHENTICATED is retried once at once, then ends the run', () => {
    const s = openSession({ keepaliveMs: 0 });
    input(s, 0, 'a');
    expect(s.ended(10, 1, status('UNAUTHENTICATED', 16))).toEqual([
      'reconnect #1 +0 UNAUTHENTICATED',
      'wake 10',
    ]);
    expect(s.tick(10)).toEqual(['open 2', 'wake 120000']);
    expect(s.opened(12, 2)).toEqual(['write 2#2 [a]', 'resent', 'wake 30012']);
    expect(s.ended(20, 2, status('UNAUTHENTICATED', 16))).toEqual([
      'emit a:transport:UNAUTHENTICATED',
      'error UNAUTHENTICATED',
      'wake none',
    ]);
  });

  it('ignores a late response or end of a call it has left behind', () => {
    const s = openSession({ keepaliveMs: 0, random: () => 0 });
    input(s, 0, 'a');
    s.ended(10, 1, status('UNAVAILABLE', 14));
    s.tick(10);
    s.opened(10, 2);
    const before = s.state;
    expect(response(s, 11, 1, resp(ok('a')))).toEqual([]);
    expect(s.ended(12, 1, status('INTERNAL', 13))).toEqual([]);
    expect(s.state).toEqual(before);
    expect(s.state.stream).toMatchObject({ tag: 'open', id: 2 });
    expect(response(s, 13, 2, resp(ok('a')))).toEqual(['emit a', 'wake none']);
  });

  it('writes a keepalive after keepaliveMs without a write, and only then', () => {
    const s = openSession({ keepaliveMs: 15_000, stallTimeoutMs: 0 });
    expect(s.state.wakeAt).toBe(15_000);
    expect(s.tick(14_999)).toEqual(['wake 15000']);
    expect(s.tick(15_000)).toEqual(['write 1#-1 []', 'keepalive', 'wake 30000']);
    // A write puts the next keepalive off.
    expect(input(s, 20_000, 'a')).toEqual(['write 1#1 [a]', 'sent', 'wake 35000']);
    expect(s.tick(30_000)).toEqual(['wake 35000']);
    expect(s.tick(35_000)).toEqual(['write 1#-1 []', 'keepalive', 'wake 50000']);
    // No keepalive on a call that is not open.
    const opening = session({ keepaliveMs: 15_000 });
    opening.tick(0);
    expect(opening.tick(15_000)).toEqual(['wake 120000']);
  });

  it('half-closes after the last outcome and completes when the server ends the call', () => {
    const s = openSession({ keepaliveMs: 0 });
    input(s, 0, 'a');
    expect(s.send(1, { type: 'input-end' })).toEqual([]);
    expect(response(s, 50, 1, resp(ok('a')))).toEqual(['emit a', 'half-close 1', 'wake 10050']);
    expect(s.state.stream).toEqual({ tag: 'closing', id: 1, until: 10_050 });
    expect(input(s, 60, 'late')).toEqual([]);
    expect(s.ended(70, 1)).toEqual(['complete', 'wake none']);
  });

  it('cancels the call and completes after closeTimeoutMs when the server does not end it', () => {
    const s = openSession({ keepaliveMs: 0, closeTimeoutMs: 500 });
    expect(s.send(5, { type: 'input-end' })).toEqual(['half-close 1', 'wake 505']);
    expect(s.tick(504)).toEqual(['wake 505']);
    expect(s.tick(505)).toEqual(['cancel 1', 'complete', 'wake none']);
  });

  it('ends with the input error once every outcome went out', () => {
    const s = openSession({ keepaliveMs: 0 });
    input(s, 0, 'a');
    const error = new AthenaError('READ_FAILED', 'source broke');
    expect(s.send(1, { type: 'input-end', error: { error } })).toEqual([]);
    expect(response(s, 2, 1, resp(ok('a')))).toEqual(['emit a', 'half-close 1', 'wake 10002']);
    expect(s.ended(3, 1)).toEqual(['error READ_FAILED', 'wake none']);
    expect(s.effects[0]).toEqual({ type: 'error', error });
  });

  it('the wake names the earliest of every due time', () => {
    const s = openSession({
      keepaliveMs: 15_000,
      stallTimeoutMs: 30_000,
      itemTimeoutMs: 12_000,
      retry: { maxAttempts: 3, initialDelayMs: 2_000, maxDelayMs: 2_000 },
      random: () => 0.5,
    });
    // The item deadline (1 000 + 12 000) comes before the keepalive (16 000) and the stall (31 000).
    expect(input(s, 1_000, 'a', 'b')).toEqual(['write 1#1 [a,b]', 'sent', 'wake 13000']);
    // a fails and waits 1 000 for its retry; b's deadline stays at 13 000.
    expect(response(s, 2_000, 1, resp(bad('a')))).toEqual(['retry', 'wake 3000']);
    expect(s.tick(3_000)).toEqual(['write 1#2 [a]', 'wake 13000']);
    // Nothing pending: only the keepalive is due, 15 000 after the last write.
    expect(response(s, 4_000, 1, resp(ok('a'), ok('b')))).toEqual(['emit a', 'emit b', 'wake 18000']);
  });
});
