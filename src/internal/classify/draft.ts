/**
 * The working copy `step` changes: a copy of the session state taken at the start of a step (maps and
 * lists copied, entries replaced rather than changed), the effects the step asks for, and the small
 * operations on outcomes every part shares: settling an image, holding an outcome while its request's
 * bytes are held, and emitting in input order.
 */
import type { Outcome } from '../../model.js';
import type { ClassifyConfig } from './options.js';
import type { Effect, Entry, Held, RequestRecord, SendKind, SessionState, Stream, Streak } from './state.js';

/** A mutable copy of {@link SessionState} for the length of one step. */
export interface Draft {
  readonly config: ClassifyConfig;
  readonly now: number;
  readonly fx: Effect[];
  stream: Stream;
  streak: Streak;
  entries: Map<string, Entry>;
  waiting: (readonly string[])[];
  outbox: { readonly ids: readonly string[]; readonly kind: SendKind }[];
  requests: Map<number, RequestRecord>;
  holding: Map<number, readonly Held[]>;
  order: Map<number, Held>;
  nextOut: number;
  occupied: number;
  nextSeq: number;
  nextStream: number;
  nextRequest: number;
  answered: Set<string>;
  inputDone: boolean;
  inputError: { readonly error: unknown } | undefined;
  unread: (() => number | undefined) | undefined;
  wakeAt: number | undefined;
}

export function openDraft(state: SessionState, now: number): Draft {
  return {
    ...state,
    now,
    fx: [],
    entries: new Map(state.entries),
    waiting: [...state.waiting],
    outbox: [...state.outbox],
    requests: new Map(state.requests),
    holding: new Map(state.holding),
    order: new Map(state.order),
    answered: new Set(state.answered),
  };
}

export function closeDraft(d: Draft): SessionState {
  const { now: _now, fx: _fx, ...state } = d;
  return state;
}

/** The id of the current call, if there is one. */
export function currentStream(d: Draft): number | undefined {
  const s = d.stream;
  return s.tag === 'opening' || s.tag === 'open' || s.tag === 'closing' ? s.id : undefined;
}

/** Items of `request` still written in it and unanswered. */
export function liveOf(d: Draft, request: number, record: RequestRecord): Entry[] {
  const live: Entry[] = [];
  for (const id of record.ids) {
    const entry = d.entries.get(id);
    if (entry?.phase.tag === 'written' && entry.phase.request === request) live.push(entry);
  }
  return live;
}

/** Drops a request record no one needs any more: its bytes are gone and no global error can answer it. */
export function prune(d: Draft, request: number): void {
  const record = d.requests.get(request);
  if (record?.acked && (record.answered || liveOf(d, request, record).length === 0)) {
    d.requests.delete(request);
  }
}

/** The image has its outcome: it leaves the table, and the outcome goes out once its bytes are not held. */
export function settle(d: Draft, entry: Entry, outcome: Outcome): void {
  d.entries.delete(entry.id);
  remember(d, entry.id);
  const { phase } = entry;
  const slot = phase.tag !== 'waiting';
  if (phase.tag === 'written') {
    const record = d.requests.get(phase.request);
    if (record !== undefined && !record.acked) {
      d.holding.set(phase.request, [
        ...(d.holding.get(phase.request) ?? []),
        { seq: entry.seq, outcome, slot },
      ]);
      return;
    }
    prune(d, phase.request);
  }
  release(d, { seq: entry.seq, outcome, slot });
}

/** The bytes of `request` are no longer held: the outcomes waiting for that go out. */
export function releaseRequest(d: Draft, request: number): void {
  const held = d.holding.get(request);
  if (held === undefined) return;
  d.holding.delete(request);
  for (const h of held) release(d, h);
}

/** Hands an outcome over for emission: at once, or in input order when `ordered`. */
export function release(d: Draft, held: Held): void {
  if (!d.config.ordered) return emit(d, held);
  d.order.set(held.seq, held);
  for (let next = d.order.get(d.nextOut); next !== undefined; next = d.order.get(d.nextOut)) {
    d.order.delete(d.nextOut);
    d.nextOut += 1;
    emit(d, next);
  }
}

function emit(d: Draft, held: Held): void {
  if (held.slot) d.occupied -= 1;
  d.fx.push({ type: 'emit', outcome: held.outcome });
}

/** Remembers an answered id, so that a later output for it is a duplicate, not another client's. */
function remember(d: Draft, id: string): void {
  d.answered.delete(id);
  d.answered.add(id);
  const memory = Math.max(4096, d.config.maxInFlight * 16);
  if (d.answered.size > memory) d.answered.delete(d.answered.values().next().value as string);
}
