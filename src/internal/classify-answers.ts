import { AthenaError } from '../errors.js';
import type {
  ClassificationError,
  ClassificationOutput,
  ClassifyResponse,
} from '../generated/athena/models.js';
import { toFailure } from '../model.js';
import { fromClassificationError, outputToOutcome } from '../outputs.js';
import type { Link } from './classify-link.js';
import type { Entry, SentBatch } from './classify-pending.js';
import { classifyRequest } from './classify-request.js';
import { itemRetryDelay } from './classify-retry.js';
import type { SessionCore, Unit } from './classify-session.js';

/**
 * The item side of a `classify` session: writing items (arming their timeouts), matching outputs to
 * pending items, tying global errors to batches, and retries of failed outputs under the policy.
 */
export function createAnswers(core: SessionCore) {
  const { config, pending, outbox } = core;
  const { scheduler } = config;

  function written(entries: readonly Entry[], kind: Unit['kind'], link: Link): void {
    const batch: SentBatch = { entries, answered: false };
    const now = scheduler.now();
    let bytes = 0;
    for (const entry of entries) {
      entry.state = 'sent';
      entry.batch = batch;
      entry.firstSentAt ??= now;
      bytes += entry.input.data.length;
      entry.timer?.unsubscribe();
      entry.timer = scheduler.schedule(() => timedOut(entry), config.itemTimeoutMs);
    }
    pending.wrote(batch);
    if (kind === 'send') config.emit({ type: 'sent', items: entries.length, bytes });
    if (kind === 'resend') config.emit({ type: 'resent', items: entries.length });
    link.write(
      classifyRequest(
        config.deploymentId,
        entries.map((e) => e.input),
      ),
    );
  }

  function timedOut(entry: Entry): void {
    entry.timer = undefined;
    if (!pending.holds(entry) || entry.state !== 'sent') return;
    pending.settle(entry, false);
    const error = new AthenaError(
      'TIMEOUT',
      `${entry.item.ref}: no output within ${config.itemTimeoutMs} ms (correlation id ${entry.id})`,
    );
    core.deliver(entry.seq, toFailure(entry.item, 'timeout', error), entry.admitted);
  }

  function output(out: ClassificationOutput): void {
    const correlationId = out.correlationId;
    const found = pending.lookup(correlationId);
    if (found.kind === 'foreign') {
      config.emit({ type: 'foreign', correlationId });
      config.foreign(out);
      return;
    }
    if (found.kind === 'duplicate') {
      config.emit({ type: 'duplicate', correlationId });
      return;
    }
    const { entry } = found;
    if (entry.batch) pending.answered(entry.batch);
    const outcome = outputToOutcome(out, entry.item);
    if (!outcome.ok && retried(entry, outcome.error)) return;
    pending.settle(entry, true);
    core.deliver(entry.seq, outcome, entry.admitted);
  }

  function globalError(reported: ClassificationError): void {
    const cause = fromClassificationError(reported);
    const targets = pending.globalErrorTargets();
    config.emit({ type: 'global-error', items: targets.length, error: cause });
    const error = new AthenaError('GLOBAL_ERROR', `The request batch failed: ${cause.message}`, {
      cause,
      ...(cause.details === undefined ? {} : { details: cause.details }),
      ...(cause.serviceCode === undefined ? {} : { serviceCode: cause.serviceCode }),
    });
    for (const entry of targets) {
      if (!pending.holds(entry) || entry.state !== 'sent' || retried(entry, cause)) continue;
      pending.settle(entry, false);
      core.deliver(entry.seq, toFailure(entry.item, 'classify', error), entry.admitted);
    }
  }

  /** Schedules the item again when the policy allows it; false when it should fail now. */
  function retried(entry: Entry, error: AthenaError): boolean {
    const elapsed = scheduler.now() - (entry.firstSentAt ?? scheduler.now());
    const delay = itemRetryDelay(config.retry, entry.attempt, error, elapsed, config.random);
    if (delay === undefined) return false;
    entry.attempt += 1;
    entry.timer?.unsubscribe();
    entry.state = 'backoff';
    config.emit({ type: 'retry', correlationId: entry.id, attempt: entry.attempt });
    entry.timer = scheduler.schedule(() => {
      entry.timer = undefined;
      if (!pending.holds(entry) || entry.state !== 'backoff') return;
      entry.state = 'queued';
      outbox.push({ entries: [entry], kind: 'retry' });
      core.pump();
    }, delay);
    return true;
  }

  return {
    written,
    response(response: ClassifyResponse): void {
      for (const out of response.outputs ?? []) output(out);
      if (response.globalError) globalError(response.globalError);
    },
  };
}
