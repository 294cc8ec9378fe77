/**
 * The stream side of the classify core: opening a call, its requests' bytes leaving the client, a call
 * that ends or breaks, a call that goes quiet while images wait (a stall), and the reconnect decision
 * under the policy: capped jittered backoff within a time budget that only an output for one of our
 * own images resets.
 */
import { AthenaError } from '../../errors.js';
import { nextDelay } from '../retry/policy.js';
import { currentStream, prune, releaseRequest, type Draft } from './draft.js';
import type { Entry } from './state.js';

/** The client took the request stream of call `stream`: requests can be written. */
export function onOpened(d: Draft, stream: number): void {
  if (d.stream.tag !== 'opening' || d.stream.id !== stream) return;
  d.stream = { tag: 'open', id: stream, lastWriteAt: d.now, quietSince: undefined };
}

/**
 * The bytes of `request` left the client's buffers. That is progress on the call: the stall watch
 * starts again from here, so a large request on a slow link is not taken for a stall.
 */
export function onWritten(d: Draft, request: number): void {
  const record = d.requests.get(request);
  if (record === undefined || record.acked) return;
  d.requests.set(request, { ...record, acked: true });
  if (d.stream.tag === 'open' && d.stream.id === record.stream && d.stream.quietSince !== undefined) {
    d.stream = { ...d.stream, quietSince: d.now };
  }
  releaseRequest(d, request);
  prune(d, request);
}

/** Call `stream` ended: by the server's status, or cleanly (`error` undefined). */
export function onEnded(d: Draft, stream: number, error: AthenaError | undefined): Verdict {
  if (currentStream(d) !== stream) return undefined;
  const closing = d.stream.tag === 'closing';
  const since = d.stream.tag === 'opening' ? d.stream.startedAt : undefined;
  dropRequests(d, stream);
  if (closing) return 'closed';
  return broken(d, error, since);
}

/**
 * What the end of a call means for the run: `closed` after the half-close (the run is over), an error
 * when the run must fail with it, undefined when the session goes on.
 */
export type Verdict = 'closed' | AthenaError | undefined;

/** The call that has waited too long: cancelled, and handled as broken. */
export function giveUp(d: Draft, error: AthenaError): Verdict {
  const stream = currentStream(d);
  if (stream === undefined) return undefined;
  const since = d.stream.tag === 'opening' ? d.stream.startedAt : undefined;
  d.fx.push({ type: 'cancel', stream });
  dropRequests(d, stream);
  return broken(d, error, since);
}

/** The call's requests are gone with it: their bytes are no longer held. */
function dropRequests(d: Draft, stream: number): void {
  for (const [request, record] of [...d.requests]) {
    if (record.stream !== stream) continue;
    d.requests.delete(request);
    releaseRequest(d, request);
  }
}

/**
 * The current call broke: its unanswered images are queued first for the next call, which opens after
 * the policy's backoff. With nothing pending, nothing waits: the next call opens when there is
 * something to write. Returns the error the run must fail with, if any. `since`: when the wait that broke began, if before now (a call that never opened).
 */
function broken(d: Draft, error: AthenaError | undefined, since: number | undefined): Verdict {
  d.stream = { tag: 'none' };
  const unanswered = [...d.entries.values()].filter((e) => e.phase.tag === 'written');
  requeue(d, unanswered);
  if (d.entries.size === 0) {
    d.streak = { attempt: 0, since: undefined, authRetried: false };
    return error !== undefined && !reconnectable(d, error) ? error : undefined;
  }
  const cause =
    error ??
    new AthenaError(
      'UNAVAILABLE',
      `The server ended the Classify call with ${unanswered.length} images unanswered`,
    );
  const policy = d.config.reconnect;
  const start = Math.min(d.streak.since ?? d.now, since ?? d.now);
  const attempt = d.streak.attempt + 1;
  const auth = cause.code === 'UNAUTHENTICATED';
  if ((auth && d.streak.authRetried) || !reconnectable(d, cause)) return cause;
  // Whether the error is worth it was decided above; the policy counts attempts and the budget.
  // UNAUTHENTICATED: the client refreshed its token; try once more at once (no jitter drawn).
  const delayMs = nextDelay(
    { ...policy, retryable: () => true },
    {
      attempt,
      error: cause,
      elapsedMs: d.now - start,
      random: auth ? () => 0 : d.config.random,
      waitWithinBudget: false,
    },
  );
  if (delayMs === undefined) return cause;
  d.streak = { attempt, since: start, authRetried: d.streak.authRetried || auth };
  d.fx.push({ type: 'event', event: { type: 'reconnect', attempt, delayMs, error: cause } });
  d.stream = { tag: 'backoff', until: d.now + delayMs };
  return undefined;
}

/** Images written on a broken call go first on the next one, grouped as they were written, in input order. */
function requeue(d: Draft, entries: readonly Entry[]): void {
  const groups = new Map<number, string[]>();
  for (const entry of [...entries].sort((a, b) => a.seq - b.seq)) {
    const request = entry.phase.tag === 'written' ? entry.phase.request : 0;
    groups.set(request, [...(groups.get(request) ?? []), entry.id]);
    d.entries.set(entry.id, { ...entry, phase: { tag: 'queued', kind: 'resend' } });
  }
  d.outbox.unshift(...[...groups.values()].map((ids) => ({ ids, kind: 'resend' as const })));
}

/** Whether a broken call is worth opening again: a stall always is, `UNAUTHENTICATED` once, else the policy says. */
function reconnectable(d: Draft, error: AthenaError): boolean {
  return error.code === 'STALLED' || error.code === 'UNAUTHENTICATED' || d.config.reconnect.retryable(error);
}
