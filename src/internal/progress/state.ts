/** The counters behind `createProgress` and `progress`: plain mutable state, read as immutable snapshots. */
import { type FailureStage } from '../../model.js';
import { type ProgressSnapshot, type ProgressStatus } from './snapshot.js';
import { failureCodeName } from '../../outputs.js';
import { type ClassifyEvent } from '../../transport/contracts.js';

type Counter =
  | 'submitted'
  | 'classified'
  | 'failed'
  | 'requestsSent'
  | 'itemsSent'
  | 'bytesSent'
  | 'resent'
  | 'retries'
  | 'reconnects'
  | 'stalls'
  | 'keepalives'
  | 'globalErrors'
  | 'foreign'
  | 'duplicates';

/** Events counted once each, by the counter they raise (events of unknown types are ignored). */
const EVENT_COUNTERS: Partial<Record<ClassifyEvent['type'], Counter>> = {
  reconnect: 'reconnects',
  stall: 'stalls',
  foreign: 'foreign',
  duplicate: 'duplicates',
  keepalive: 'keepalives',
  'global-error': 'globalErrors',
  retry: 'retries',
};

export interface ProgressState {
  start(): void;
  countInputs(count: number): void;
  countOutcome(value: unknown): void;
  countEvent(event: ClassifyEvent): void;
  /** Ends the run (the first end wins). Returns false when it had ended already. */
  finish(status: 'complete' | 'error' | 'cancelled'): boolean;
  setTotal(total: number | undefined): void;
  snapshot(): ProgressSnapshot;
  readonly ended: boolean;
}

export function createProgressState(
  now: () => number,
  windowMs: number,
  initialTotal?: number,
): ProgressState {
  const counts: Record<Counter, number> = {
    submitted: 0,
    classified: 0,
    failed: 0,
    requestsSent: 0,
    itemsSent: 0,
    bytesSent: 0,
    resent: 0,
    retries: 0,
    reconnects: 0,
    stalls: 0,
    keepalives: 0,
    globalErrors: 0,
    foreign: 0,
    duplicates: 0,
  };
  const byStage: Partial<Record<FailureStage, number>> = {};
  const byCode: Record<string, number> = {};
  // Outcome times in the sliding window, merged per millisecond: at most windowMs entries.
  const window: [time: number, count: number][] = [];
  let status: ProgressStatus = 'idle';
  let startedAt: number | undefined;
  let endedAt: number | undefined;
  let total = initialTotal;

  const start = (): void => {
    if (status !== 'idle') return;
    status = 'running';
    startedAt = now();
  };
  const prune = (at: number): void => {
    while (window.length > 0 && (window[0]?.[0] ?? at) <= at - windowMs) window.shift();
  };
  const recordOutcome = (): void => {
    const at = now();
    const last = window[window.length - 1];
    if (last !== undefined && last[0] === at) last[1] += 1;
    else window.push([at, 1]);
    prune(at);
  };

  return {
    start,
    get ended() {
      return endedAt !== undefined;
    },
    countInputs(count) {
      start();
      counts.submitted += count;
    },
    countOutcome(value) {
      const kind = (value as { kind?: unknown } | null)?.kind;
      if (kind !== 'classified' && kind !== 'failure') return;
      start();
      recordOutcome();
      if (kind === 'classified') {
        counts.classified += 1;
        return;
      }
      const failure = value as Parameters<typeof failureCodeName>[0];
      counts.failed += 1;
      byStage[failure.stage] = (byStage[failure.stage] ?? 0) + 1;
      const code = failure.error ? failureCodeName(failure) : 'UNKNOWN';
      byCode[code] = (byCode[code] ?? 0) + 1;
    },
    countEvent(event) {
      start();
      if (event.type === 'sent') {
        counts.requestsSent += 1;
        counts.itemsSent += event.items;
        counts.bytesSent += event.bytes;
      } else if (event.type === 'resent') {
        counts.resent += event.items;
      } else {
        const counter = EVENT_COUNTERS[event.type];
        if (counter !== undefined) counts[counter] += 1;
      }
    },
    finish(end) {
      if (endedAt !== undefined) return false;
      start();
      status = end;
      endedAt = now();
      return true;
    },
    setTotal(value) {
      total = value;
    },
    snapshot() {
      const at = endedAt ?? now();
      prune(at);
      const elapsedMs = startedAt === undefined ? 0 : Math.max(0, at - startedAt);
      const span = Math.min(windowMs, elapsedMs);
      const recent = window.reduce((sum, [, count]) => sum + count, 0);
      const ratePerSecond = span > 0 ? (recent * 1000) / span : 0;
      const completed = counts.classified + counts.failed;
      const snapshot = {
        ...counts,
        status,
        inFlight: Math.max(0, counts.submitted - completed),
        completed,
        failedByStage: { ...byStage },
        failedByCode: { ...byCode },
        ratePerSecond,
        elapsedMs,
      };
      if (total === undefined) return snapshot;
      const remaining = Math.max(0, total - completed);
      const eta = remaining === 0 ? 0 : ratePerSecond > 0 ? (remaining * 1000) / ratePerSecond : undefined;
      return {
        ...snapshot,
        total,
        fraction: total > 0 ? completed / total : 1,
        ...(eta === undefined ? {} : { etaMs: Math.round(eta) }),
      };
    },
  };
}
