/**
 * Time in the classify core: what is due when a `tick` arrives (item deadlines, retries, the reconnect
 * backoff, the stall watch, the keepalive, the close timeout, a call that never opened), and when the
 * next tick is needed. Every deadline is state, so the shell keeps one timer at most.
 */
import { AthenaError } from '../../errors.js';
import { toFailure } from '../../model.js';
import { settle, type Draft } from './draft.js';
import type { Verdict } from './stream.js';

/** Handles everything due at `d.now`. `giveUp` cancels a call that waited too long and says what follows. */
export function checkTimers(d: Draft, giveUp: (d: Draft, error: AthenaError) => Verdict): Verdict {
  const { config, now } = d;
  for (const entry of [...d.entries.values()]) {
    const deadline = entry.firstWriteAt === undefined ? undefined : entry.firstWriteAt + config.itemTimeoutMs;
    if (deadline !== undefined && now >= deadline) {
      const error = new AthenaError(
        'TIMEOUT',
        `${entry.item.ref}: no output within ${config.itemTimeoutMs} ms of its first send (correlation id ${entry.id})`,
      );
      settle(d, entry, toFailure(entry.item, 'timeout', error));
    } else if (entry.phase.tag === 'backoff' && now >= entry.phase.until) {
      d.entries.set(entry.id, { ...entry, phase: { tag: 'queued', kind: 'retry' } });
      d.outbox.push({ ids: [entry.id], kind: 'retry' });
    }
  }
  const s = d.stream;
  switch (s.tag) {
    case 'backoff':
      if (now >= s.until) d.stream = { tag: 'none' };
      return undefined;
    case 'closing':
      if (now < s.until) return undefined;
      d.fx.push({ type: 'cancel', stream: s.id });
      return 'closed';
    case 'opening':
      if (now < s.deadline) return undefined;
      return giveUp(
        d,
        new AthenaError('UNAVAILABLE', `the Classify call did not open within ${now - s.startedAt} ms`),
      );
    case 'open':
      if (
        config.stallTimeoutMs > 0 &&
        s.quietSince !== undefined &&
        now >= s.quietSince + config.stallTimeoutMs
      ) {
        const items = [...d.entries.values()].filter((e) => e.phase.tag === 'written').length;
        d.fx.push({ type: 'event', event: { type: 'stall', afterMs: now - s.quietSince, items } });
        return giveUp(
          d,
          new AthenaError(
            'STALLED',
            `no response on the Classify stream for ${now - s.quietSince} ms while ${items} images waited for their outputs`,
          ),
        );
      }
      if (config.keepaliveMs > 0 && now >= s.lastWriteAt + config.keepaliveMs) {
        d.fx.push({ type: 'write', stream: s.id, request: -1, inputs: [] });
        d.fx.push({ type: 'event', event: { type: 'keepalive' } });
        d.stream = { ...s, lastWriteAt: now };
      }
      return undefined;
    default:
      return undefined;
  }
}

/**
 * The stall watch runs while images written on the open call wait for their outputs: it starts when
 * the first of them is written (or at the last response) and stops when none waits.
 */
export function watchQuiet(d: Draft): void {
  const s = d.stream;
  if (s.tag !== 'open') return;
  const waiting = [...d.entries.values()].some((e) => e.phase.tag === 'written' && e.phase.stream === s.id);
  if (!waiting && s.quietSince !== undefined) d.stream = { ...s, quietSince: undefined };
  else if (waiting && s.quietSince === undefined) d.stream = { ...s, quietSince: d.now };
}

/** The earliest time something is due, or undefined when nothing is. */
export function nextWake(d: Draft): number | undefined {
  const { config } = d;
  let at = Number.POSITIVE_INFINITY;
  const t = d.stream;
  if (t.tag === 'backoff' || t.tag === 'closing') at = t.until;
  if (t.tag === 'opening') at = t.deadline;
  if (t.tag === 'open') {
    if (config.keepaliveMs > 0) at = Math.min(at, t.lastWriteAt + config.keepaliveMs);
    if (config.stallTimeoutMs > 0 && t.quietSince !== undefined)
      at = Math.min(at, t.quietSince + config.stallTimeoutMs);
  }
  for (const entry of d.entries.values()) {
    if (entry.firstWriteAt !== undefined) at = Math.min(at, entry.firstWriteAt + config.itemTimeoutMs);
    if (entry.phase.tag === 'backoff') at = Math.min(at, entry.phase.until);
  }
  return Number.isFinite(at) ? at : undefined;
}
