/**
 * The classify core's one transition function: `step(state, event) -> { state, effects }`. Pure: it
 * reads the time from the event and never touches a socket or a timer; the shell runs its effects.
 */
import { AthenaError } from '../../errors.js';
import { toFailure } from '../../model.js';
import { onResponse } from './answers.js';
import { closeDraft, currentStream, openDraft, releaseRequest, settle, type Draft } from './draft.js';
import { intake } from './intake.js';
import { checkTimers, nextWake, watchQuiet } from './timers.js';
import { giveUp, onEnded, onOpened, onWritten, type Verdict } from './stream.js';
import type { Effect, SessionEvent, SessionState } from './state.js';

export interface StepResult {
  readonly state: SessionState;
  readonly effects: readonly Effect[];
}

/** Moves the session by one event. Once the run is over, every event is ignored. */
export function step(state: SessionState, event: SessionEvent): StepResult {
  if (state.stream.tag === 'over') return { state, effects: [] };
  const d = openDraft(state, event.now);
  let verdict: Verdict;
  switch (event.type) {
    case 'input':
      intake(d, event.value);
      break;
    case 'input-end':
      d.inputDone = true;
      d.inputError = event.error;
      break;
    case 'opened':
      onOpened(d, event.stream);
      break;
    case 'written':
      onWritten(d, event.request);
      break;
    case 'response':
      onResponse(d, event.stream, event.response);
      break;
    case 'ended':
      verdict = onEnded(d, event.stream, event.error);
      break;
    case 'tick':
      verdict = checkTimers(d, giveUp);
      break;
  }
  if (verdict === 'closed') finish(d);
  else if (verdict !== undefined) fail(d, verdict);
  else pump(d);
  watchQuiet(d);
  const wakeAt = d.stream.tag === 'over' ? undefined : nextWake(d);
  // After a tick the shell's timer is spent: name the next time again even when it did not change.
  if (wakeAt !== d.wakeAt || event.type === 'tick') {
    d.wakeAt = wakeAt;
    d.fx.push({ type: 'wake', at: wakeAt });
  }
  return { state: closeDraft(d), effects: d.fx };
}

/** Admits waiting images into free slots, writes what is queued, and ends the run when all is done. */
function pump(d: Draft): void {
  const { maxInFlight } = d.config;
  while (d.waiting.length > 0) {
    const unit = d.waiting[0] as readonly string[];
    if (d.occupied > 0 && d.occupied + unit.length > maxInFlight) break;
    d.waiting.shift();
    d.occupied += unit.length;
    for (const id of unit) {
      const entry = d.entries.get(id);
      if (entry) d.entries.set(id, { ...entry, phase: { tag: 'queued', kind: 'send' } });
    }
    d.outbox.push({ ids: unit, kind: 'send' });
  }
  write(d);
  maybeEnd(d);
}

function write(d: Draft): void {
  const queued = (id: string) => d.entries.get(id)?.phase.tag === 'queued';
  if (!d.outbox.some((u) => u.ids.some(queued))) d.outbox.length = 0;
  // The first call opens on subscribe; later ones only when there is something to write.
  if (d.outbox.length === 0 && d.nextStream > 1) return;
  if (d.stream.tag === 'none') {
    const id = d.nextStream++;
    const startedAt = d.now;
    const deadline = (d.streak.since ?? startedAt) + d.config.reconnect.budgetMs;
    d.stream = { tag: 'opening', id, startedAt, deadline };
    d.fx.push({ type: 'open', stream: id });
    return;
  }
  const stream = d.stream;
  if (stream.tag !== 'open') return;
  for (const unit of d.outbox.splice(0)) {
    const entries = unit.ids.flatMap((id) => {
      const entry = d.entries.get(id);
      return entry?.phase.tag === 'queued' ? [entry] : [];
    });
    if (entries.length === 0) continue;
    const request = d.nextRequest++;
    for (const e of entries) {
      d.entries.set(e.id, {
        ...e,
        phase: { tag: 'written', stream: stream.id, request },
        firstWriteAt: e.firstWriteAt ?? d.now,
      });
    }
    const inputs = entries.map((e) => e.input);
    d.requests.set(request, {
      stream: stream.id,
      ids: entries.map((e) => e.id),
      acked: false,
      answered: false,
    });
    d.fx.push({ type: 'write', stream: stream.id, request, inputs });
    if (unit.kind === 'send') {
      const bytes = inputs.reduce((n, input) => n + input.data.length, 0);
      d.fx.push({ type: 'event', event: { type: 'sent', items: entries.length, bytes } });
    } else if (unit.kind === 'resend') {
      d.fx.push({ type: 'event', event: { type: 'resent', items: entries.length } });
    }
  }
  d.stream = { ...stream, lastWriteAt: d.now };
}

/** Once the input is done and every outcome went out: half-close the call (or end at once without one). */
function maybeEnd(d: Draft): void {
  if (!d.inputDone || d.entries.size > 0 || d.waiting.length > 0) return;
  if (d.holding.size > 0 || d.order.size > 0) return;
  const s = d.stream;
  if (s.tag === 'closing') return;
  if (s.tag === 'open') {
    d.fx.push({ type: 'half-close', stream: s.id });
    d.stream = { tag: 'closing', id: s.id, until: d.now + d.config.closeTimeoutMs };
    return;
  }
  if (s.tag === 'opening') d.fx.push({ type: 'cancel', stream: s.id });
  finish(d);
}

function finish(d: Draft): void {
  d.stream = { tag: 'over' };
  d.fx.push(d.inputError ? { type: 'error', error: d.inputError.error } : { type: 'complete' });
}

/**
 * The run must end with `cause`: the call is cancelled, every image taken in fails at stage
 * `transport` (in input order when ordered), then the run errors with how many inputs were left.
 */
function fail(d: Draft, cause: AthenaError): void {
  const stream = currentStream(d);
  if (stream !== undefined) d.fx.push({ type: 'cancel', stream });
  // The call is cancelled: no request's bytes are held any more.
  for (const request of [...d.holding.keys()]) releaseRequest(d, request);
  d.requests.clear();
  const entries = [...d.entries.values()].sort((a, b) => a.seq - b.seq);
  for (const entry of entries) settle(d, entry, toFailure(entry.item, 'transport', cause));
  d.waiting = [];
  d.outbox = [];
  d.stream = { tag: 'over' };
  const unread = d.inputDone ? 0 : d.unread?.();
  const left =
    unread === undefined
      ? 'the inputs the source had not read yet were never read'
      : `${unread} inputs were never read`;
  const message = `${cause.message} (${entries.length} images taken in failed at stage transport; ${left})`;
  d.fx.push({
    type: 'error',
    error: new AthenaError(cause.code, message, {
      cause,
      ...(cause.status === undefined ? {} : { status: cause.status }),
      ...(cause.details === undefined ? {} : { details: cause.details }),
    }),
  });
}
