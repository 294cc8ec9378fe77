/**
 * The answer side of the classify core: what a response does to the session. Outputs are matched by
 * correlation id (ours, a duplicate of one already answered, or another client's), a `global_error` is
 * tied to the oldest unanswered request on the stream, and failed outputs are retried under the policy.
 */
import { AthenaError } from '../../errors.js';
import type {
  ClassificationError,
  ClassificationOutput,
  ClassifyResponse,
} from '../../generated/athena/models.js';
import { toFailure } from '../../model.js';
import { fromClassificationError, outputToOutcome } from '../../outputs.js';
import { itemRetryDelay } from './retry.js';
import { currentStream, liveOf, settle, type Draft } from './draft.js';
import type { Entry } from './state.js';

/** A response arrived on stream `stream`. */
export function onResponse(d: Draft, stream: number, response: ClassifyResponse): void {
  if (currentStream(d) !== stream) return;
  if (d.stream.tag === 'open') d.stream = { ...d.stream, quietSince: d.now };
  for (const out of response.outputs ?? []) onOutput(d, out);
  if (response.globalError) onGlobalError(d, response.globalError);
}

function onOutput(d: Draft, out: ClassificationOutput): void {
  const id = out.correlationId;
  const entry = d.entries.get(id);
  if (entry === undefined || entry.firstWriteAt === undefined) {
    // Never sent by us: another client's output on the shared deployment (or a late second answer).
    const duplicate = entry === undefined && d.answered.has(id);
    d.fx.push({ type: 'event', event: { type: duplicate ? 'duplicate' : 'foreign', correlationId: id } });
    if (!duplicate) d.fx.push({ type: 'foreign', output: out });
    return;
  }
  // An output for one of our own images: the stream works, a new streak of breaks starts from here.
  d.streak = { attempt: 0, since: undefined, authRetried: false };
  if (entry.phase.tag === 'written') answered(d, entry.phase.request);
  const outcome = outputToOutcome(out, entry.item);
  if (!outcome.ok && retried(d, entry, outcome.error)) return;
  settle(d, entry, outcome);
}

function onGlobalError(d: Draft, reported: ClassificationError): void {
  const cause = fromClassificationError(reported);
  const targets = globalErrorTargets(d);
  d.fx.push({ type: 'event', event: { type: 'global-error', items: targets.length, error: cause } });
  const error = new AthenaError('GLOBAL_ERROR', `The request batch failed: ${cause.message}`, {
    cause,
    ...(cause.details === undefined ? {} : { details: cause.details }),
    ...(cause.serviceCode === undefined ? {} : { serviceCode: cause.serviceCode }),
  });
  for (const entry of targets) {
    if (!retried(d, entry, cause)) settle(d, entry, toFailure(entry.item, 'classify', error));
  }
}

/**
 * The images a `global_error` fails. Responses are not tied to requests, but a global error answers a
 * whole request and comes without outputs, so the request it answers has had no output: the oldest
 * request on this stream with no output and unanswered images. With none, every image in flight on it.
 */
function globalErrorTargets(d: Draft): Entry[] {
  const stream = currentStream(d);
  for (const [request, record] of d.requests) {
    if (record.stream !== stream || record.answered) continue;
    const live = liveOf(d, request, record);
    answered(d, request);
    if (live.length > 0) return live;
  }
  return [...d.entries.values()].filter((e) => e.phase.tag === 'written' && e.phase.stream === stream);
}

function answered(d: Draft, request: number): void {
  const record = d.requests.get(request);
  if (record === undefined || record.answered) return;
  if (record.acked) d.requests.delete(request);
  else d.requests.set(request, { ...record, answered: true });
}

/**
 * Puts the image in backoff when the retry policy allows another attempt that can still finish before
 * its deadline; false when it should fail now.
 */
export function retried(d: Draft, entry: Entry, error: AthenaError): boolean {
  const { config, now } = d;
  const first = entry.firstWriteAt ?? now;
  const delay = itemRetryDelay(config.retry, entry.attempt, error, now - first, config.random);
  if (delay === undefined || now + delay >= first + config.itemTimeoutMs) return false;
  d.entries.set(entry.id, {
    ...entry,
    attempt: entry.attempt + 1,
    phase: { tag: 'backoff', until: now + delay },
  });
  d.fx.push({ type: 'event', event: { type: 'retry', correlationId: entry.id, attempt: entry.attempt + 1 } });
  return true;
}
