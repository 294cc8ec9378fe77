/**
 * The `classifyVia` core's one transition function: `stepVia(state, event) -> { state, effects }`.
 * Pure: it reads the time from the event (and jitter from the configured `random`), never a socket
 * or a timer; the shell runs its effects.
 */
import { AthenaError, type AthenaErrorCode } from '../../errors.js';
import { nextDelay } from '../retry/policy.js';
import { toFailure } from '../../model.js';
import { CLOSE_CODES } from './close-codes.js';
import { outcomeOf, wireImage } from './intake.js';
import type { ServerMessage } from '../gateway/protocol.js';
import type { Link, Pending, ViaEffect, ViaEvent, ViaInput, ViaState } from './state.js';

export interface ViaStepResult {
  readonly state: ViaState;
  readonly effects: readonly ViaEffect[];
}

type Draft = { -readonly [K in keyof ViaState]: ViaState[K] } & {
  pending: Map<string, Pending>;
  ghosts: Set<string>;
};

/** Moves the subscription by one event. Once the run is over, every event is ignored. */
export function stepVia(state: ViaState, event: ViaEvent): ViaStepResult {
  if (state.link.tag === 'over') return { state, effects: [] };
  const d: Draft = { ...state, pending: new Map(state.pending), ghosts: new Set(state.ghosts) };
  const fx: ViaEffect[] = [];
  const { now } = event;
  switch (event.type) {
    case 'input':
      intake(d, fx, event.value);
      break;
    case 'input-end':
      d.inputDone = true;
      d.inputError = event.error;
      break;
    case 'message':
      if (linkId(d.link) === event.link) onMessage(d, fx, event.message);
      break;
    case 'closed':
      if (linkId(d.link) === event.link) dropped(d, fx, closeError(event.code, d.config.where), now);
      break;
    case 'tick':
      onTick(d, fx, now);
      break;
  }
  if (d.link.tag !== 'over') pump(d, fx, now);
  const wakeAt = d.link.tag === 'over' ? undefined : nextWake(d);
  if (wakeAt !== d.wakeAt || event.type === 'tick') {
    d.wakeAt = wakeAt;
    fx.push({ type: 'wake', at: wakeAt });
  }
  return { state: d, effects: fx };
}

function linkId(link: Link): number | undefined {
  return link.tag === 'connecting' || link.tag === 'open' ? link.id : undefined;
}

function intake(d: Draft, fx: ViaEffect[], value: ViaInput): void {
  if (d.inputDone) return;
  if (value.kind !== 'image') {
    fx.push({ type: 'emit', outcome: value });
    return;
  }
  const wire = wireImage(value);
  if (wire instanceof AthenaError) {
    fx.push({ type: 'emit', outcome: toFailure(value, 'validate', wire) });
  } else if (d.pending.has(wire.id)) {
    const error = new AthenaError(
      'DUPLICATE_ID',
      `${value.ref}: correlation id ${wire.id} is already pending`,
    );
    fx.push({ type: 'emit', outcome: toFailure(value, 'validate', error) });
  } else {
    d.pending.set(wire.id, { item: value, wire, sent: false, firstSentAt: undefined });
  }
}

function onMessage(d: Draft, fx: ViaEffect[], message: ServerMessage): void {
  if (message.type === 'hello') {
    if (d.link.tag === 'connecting') d.link = { tag: 'open', id: d.link.id, limits: message.limits };
    return;
  }
  if (message.type !== 'outcome') return;
  d.ghosts.delete(message.id);
  const entry = d.pending.get(message.id);
  // Not ours or not sent on this link: a late answer to an image already timed out or answered.
  if (entry === undefined || !entry.sent) return;
  d.pending.delete(message.id);
  d.attempt = 0;
  d.since = undefined;
  fx.push({ type: 'emit', outcome: outcomeOf(entry.item, message) });
}

/** The link is gone: unanswered images wait to be sent again, on a new link if the policy allows. */
function dropped(d: Draft, fx: ViaEffect[], error: AthenaError, now: number): void {
  d.ghosts.clear();
  for (const [id, entry] of d.pending) if (entry.sent) d.pending.set(id, { ...entry, sent: false });
  if (d.pending.size === 0) {
    d.link = { tag: 'none' };
    return;
  }
  d.attempt += 1;
  d.since ??= now;
  const { reconnect, random } = d.config;
  const delayMs = nextDelay(reconnect, {
    attempt: d.attempt,
    error,
    elapsedMs: now - d.since,
    random,
    waitWithinBudget: false,
  });
  if (delayMs !== undefined) {
    d.link = { tag: 'backoff', until: now + delayMs };
    return;
  }
  for (const entry of d.pending.values())
    fx.push({ type: 'emit', outcome: toFailure(entry.item, 'transport', error) });
  d.pending.clear();
  d.link = { tag: 'over' };
  fx.push({ type: 'error', error });
}

function onTick(d: Draft, fx: ViaEffect[], now: number): void {
  for (const [id, entry] of d.pending) {
    if (entry.firstSentAt === undefined || entry.firstSentAt + d.config.itemTimeoutMs > now) continue;
    d.pending.delete(id);
    if (entry.sent) d.ghosts.add(id);
    const error = new AthenaError(
      'TIMEOUT',
      `${entry.item.ref}: no outcome within ${d.config.itemTimeoutMs} ms`,
    );
    fx.push({ type: 'emit', outcome: toFailure(entry.item, 'timeout', error) });
  }
  const { link } = d;
  if (link.tag === 'backoff' && link.until <= now) d.link = { tag: 'none' };
  if (link.tag === 'connecting' && link.deadline <= now) {
    fx.push({ type: 'disconnect', link: link.id });
    const message = `${d.config.where} did not let the connection in within ${d.config.connectTimeoutMs} ms`;
    dropped(d, fx, new AthenaError('UNAVAILABLE', message), now);
  }
}

/** Connects when images wait, sends what the limits allow, ends the run when all is answered. */
function pump(d: Draft, fx: ViaEffect[], now: number): void {
  if (d.inputDone && d.pending.size === 0) {
    const id = linkId(d.link);
    if (id !== undefined) fx.push({ type: 'disconnect', link: id });
    d.link = { tag: 'over' };
    fx.push(d.inputError === undefined ? { type: 'complete' } : { type: 'error', error: d.inputError.error });
    return;
  }
  const unsent = [...d.pending.values()].filter((entry) => !entry.sent);
  if (unsent.length === 0) return;
  if (d.link.tag === 'none') {
    d.link = { tag: 'connecting', id: d.nextLink, deadline: now + d.config.connectTimeoutMs };
    d.nextLink += 1;
    fx.push({ type: 'connect', link: d.link.id });
    return;
  }
  if (d.link.tag !== 'open') return;
  const { id: link, limits } = d.link;
  const most = Math.min(d.config.maxInFlight, limits.maxInFlight);
  let count = d.ghosts.size;
  let bytes = 0;
  for (const entry of d.pending.values()) {
    if (!entry.sent) continue;
    count += 1;
    bytes += entry.wire.data.length;
  }
  for (const entry of unsent) {
    if (entry.wire.data.length > limits.maxImageBytes) {
      d.pending.delete(entry.wire.id);
      const message = `${entry.item.ref}: ${entry.wire.data.length} bytes, the gateway takes at most ${limits.maxImageBytes}`;
      fx.push({
        type: 'emit',
        outcome: toFailure(entry.item, 'validate', new AthenaError('INVALID_INPUT', message)),
      });
      continue;
    }
    if (count >= most || (count > 0 && bytes + entry.wire.data.length > limits.maxBytesInFlight)) break;
    count += 1;
    bytes += entry.wire.data.length;
    d.pending.set(entry.wire.id, sentEntry(entry, now));
    fx.push({ type: 'send', link, image: entry.wire });
  }
}

function sentEntry(entry: Pending, now: number): Pending {
  return { ...entry, sent: true, firstSentAt: entry.firstSentAt ?? now };
}

function nextWake(d: Draft): number | undefined {
  let at: number | undefined;
  const consider = (time: number) => {
    at = at === undefined ? time : Math.min(at, time);
  };
  if (d.link.tag === 'backoff') consider(d.link.until);
  if (d.link.tag === 'connecting') consider(d.link.deadline);
  for (const entry of d.pending.values()) {
    if (entry.firstSentAt !== undefined) consider(entry.firstSentAt + d.config.itemTimeoutMs);
  }
  return at;
}

/** The error a closed link means, by its WebSocket close code. */
export function closeError(code: number, where: string): AthenaError {
  const known = CLOSE_CODES[code];
  const name: AthenaErrorCode = known?.code ?? 'UNAVAILABLE';
  return new AthenaError(name, `${where}: connection closed (${code}${known ? `, ${known.text}` : ''})`);
}
