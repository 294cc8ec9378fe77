import { describe, expect, it } from 'vitest';
import { HashType } from '../../../src/generated/athena/models.js';
import { closeError, stepVia } from '../../../src/internal/via/step.js';
import {
  initialViaState,
  type ViaEffect,
  type ViaEvent,
  type ViaState,
} from '../../../src/internal/via/state.js';
import { config, item, LIMITS } from './helpers.js';

type Event = ViaEvent extends infer E
  ? E extends ViaEvent
    ? Omit<E, 'now'> & { now?: number }
    : never
  : never;

/** Runs events in order from `state`, returning the last state and every effect, briefly written. */
function drive(events: Event[], state: ViaState = initialViaState(config())) {
  const effects: string[] = [];
  for (const event of events) {
    const result = stepVia(state, { now: 0, ...event } as ViaEvent);
    state = result.state;
    effects.push(...result.effects.map(brief));
  }
  return { state, effects };
}

function brief(effect: ViaEffect): string {
  switch (effect.type) {
    case 'connect':
    case 'disconnect':
      return `${effect.type} ${effect.link}`;
    case 'send':
      return `send ${effect.link} ${effect.image.id}`;
    case 'emit':
      return effect.outcome.ok
        ? `ok ${effect.outcome.correlationId}`
        : `fail ${effect.outcome.correlationId} ${effect.outcome.stage}:${effect.outcome.error.code}`;
    case 'error':
      return `error ${(effect.error as { code?: string }).code ?? String(effect.error)}`;
    case 'wake':
      return `wake ${effect.at ?? '-'}`;
    case 'complete':
      return 'complete';
  }
}

const hello = (link = 1, limits = LIMITS): Event => ({
  type: 'message',
  link,
  message: { v: 1, type: 'hello', limits },
});
const answer = (id: string, link = 1): Event => ({
  type: 'message',
  link,
  message: { v: 1, type: 'outcome', id, ok: true, classifications: [{ label: 'Benign', weight: 1 }] },
});
const input = (id: string, extra = {}): Event => ({ type: 'input', value: item(id, extra) });

describe('classifyVia step', () => {
  it('connects on the first image and sends only after hello, within the gateway in-flight limit', () => {
    const { effects, state } = drive([input('a'), input('b'), input('c'), hello()]);
    expect(effects).toEqual(['connect 1', 'wake 100', 'send 1 a', 'send 1 b', 'wake 1000']);
    expect([...state.pending.values()].map((p) => p.sent)).toEqual([true, true, false]);
  });

  it('sends the next image as an outcome frees a slot, and completes once all are answered', () => {
    const { effects } = drive([
      input('a'),
      input('b'),
      input('c'),
      hello(),
      answer('a'),
      { type: 'input-end' },
      answer('b'),
      answer('c'),
    ]);
    expect(effects.filter((e) => !e.startsWith('wake'))).toEqual([
      'connect 1',
      'send 1 a',
      'send 1 b',
      'ok a',
      'send 1 c',
      'ok b',
      'ok c',
      'disconnect 1',
      'complete',
    ]);
  });

  it('re-sends every unanswered image on a new link after a drop, and ignores the old link and duplicates', () => {
    const { effects } = drive([
      input('a'),
      input('b'),
      hello(),
      answer('a'),
      { type: 'closed', link: 1, code: 1006, now: 5 },
      { type: 'tick', now: 15 },
      answer('b', 1),
      hello(2),
      answer('b', 2),
      answer('b', 2),
      answer('a', 2),
    ]);
    expect(effects.filter((e) => !e.startsWith('wake'))).toEqual([
      'connect 1',
      'send 1 a',
      'send 1 b',
      'ok a',
      'connect 2',
      'send 2 b',
      'ok b',
    ]);
    // random 0.5 of a 20 ms bound: the new link is asked for 10 ms after the drop.
    expect(effects).toContain('wake 15');
  });

  it('fails every pending image at stage transport after a refusal, then errors', () => {
    const { effects, state } = drive([input('a'), input('b'), { type: 'closed', link: 1, code: 4401 }]);
    expect(effects.filter((e) => !e.startsWith('wake'))).toEqual([
      'connect 1',
      'fail a transport:UNAUTHENTICATED',
      'fail b transport:UNAUTHENTICATED',
      'error UNAUTHENTICATED',
    ]);
    expect(state.link.tag).toBe('over');
    expect(drive([input('c')], state).effects).toEqual([]);
  });

  it('gives up after the reconnect policy has no attempt left', () => {
    const drops = [1, 2, 3].flatMap((link): Event[] => [
      { type: 'closed', link, code: 1006, now: link * 100 },
      { type: 'tick', now: link * 100 + 10 },
    ]);
    const { effects } = drive([input('a'), ...drops]);
    expect(effects.filter((e) => /connect|fail|error/.test(e))).toEqual([
      'connect 1',
      'connect 2',
      'connect 3',
      'fail a transport:UNAVAILABLE',
      'error UNAVAILABLE',
    ]);
  });

  it('drops a link that is not let in within connectTimeoutMs, and connects again', () => {
    const { effects } = drive([input('a'), { type: 'tick', now: 100 }, { type: 'tick', now: 110 }]);
    expect(effects.filter((e) => !e.startsWith('wake'))).toEqual(['connect 1', 'disconnect 1', 'connect 2']);
  });

  it('times an image out from its first send; it still counts against the gateway limit until answered', () => {
    const { effects, state } = drive([
      input('a'),
      input('b'),
      input('c'),
      hello(),
      { type: 'tick', now: 1000 },
    ]);
    expect(effects.filter((e) => e.startsWith('fail'))).toEqual([
      'fail a timeout:TIMEOUT',
      'fail b timeout:TIMEOUT',
    ]);
    expect(effects).not.toContain('send 1 c');
    expect([...state.ghosts]).toEqual(['a', 'b']);
    const after = drive([answer('a')], state);
    expect(after.effects.filter((e) => !e.startsWith('wake'))).toEqual(['send 1 c']);
  });

  it('fails images it cannot send at stage validate, and passes failures through', () => {
    const { effects } = drive([
      input('no-hash', { hashes: [{ type: HashType.HASH_TYPE_MD5, value: 'a'.repeat(32) }] }),
      input('bad id!'),
      input('raw', { encoding: 0, data: new Uint8Array(5) }),
      input('dup'),
      input('dup'),
      hello(1, { ...LIMITS, maxImageBytes: 2 }),
    ]);
    expect(effects.filter((e) => e.startsWith('fail') || e.startsWith('send'))).toEqual([
      'fail no-hash validate:INVALID_INPUT',
      'fail bad id! validate:INVALID_ID',
      'fail raw validate:INVALID_INPUT',
      'fail dup validate:DUPLICATE_ID',
      'fail dup validate:INVALID_INPUT',
    ]);
  });

  it('names close codes, never a URL query', () => {
    expect(closeError(4403, 'ws://h/athena?<redacted>')).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(closeError(1011, 'w').code).toBe('INTERNAL');
    expect(closeError(3999, 'w').code).toBe('UNAVAILABLE');
  });
});
