import type { Subscriber, Subscription } from 'rxjs';
import { type AthenaError } from '../errors.js';
import {
  toFailure,
  type Classified,
  type ImageBatch,
  type ImageItem,
  type ItemFailure,
  type Outcome,
} from '../model.js';
import type { ClassifyStreamClient } from '../transport/contracts.js';
import { createAnswers } from './classify-answers.js';
import { createConnection } from './classify-connection.js';
import { intake } from './classify-intake.js';
import type { ClassifyConfig } from './classify-options.js';
import { createOrderBuffer } from './classify-order.js';
import { createPendingTable, type Entry, type PendingTable } from './classify-pending.js';
import { trampoline } from './trampoline.js';

/** What `classify` takes. */
export type ClassifyInput = ImageItem | ImageBatch | ItemFailure | Classified;

/** Items bound for one request, and why they are written. */
export interface Unit {
  readonly entries: readonly Entry[];
  readonly kind: 'send' | 'resend' | 'retry';
}

/** The state one `classify` subscription shares between its parts. */
export interface SessionCore {
  readonly config: ClassifyConfig;
  readonly pending: PendingTable;
  /** Admitted items waiting for the stream, in the order they will be written. */
  readonly outbox: Unit[];
  readonly answers: ReturnType<typeof createAnswers>;
  /** Hands an outcome over for emission (in order when asked) and moves the session on. */
  deliver(seq: number, outcome: Outcome, slot: boolean): void;
  /** Admits waiting items, writes what is queued, and ends the session when all is done. */
  pump(): void;
}

/**
 * The state machine behind one `classify` subscription: items enter the pending table, wait for a
 * slot of the `maxInFlight` window, are written on the current call, and leave it as exactly one
 * outcome each. The session half-closes once the input completed and every outcome was emitted.
 */
export function createClassifySession(
  client: ClassifyStreamClient,
  config: ClassifyConfig,
  subscriber: Subscriber<Outcome>,
) {
  const pending = createPendingTable(Math.max(4096, config.maxInFlight * 16));
  const waiting: Entry[][] = [];
  let seq = 0;
  let occupied = 0;
  let closeTimer: Subscription | undefined;
  let inputDone = false;
  let inputError: { error: unknown } | undefined;
  let halfClosed = false;
  let failing = false;
  let closed = false;
  const drain = trampoline(
    () => {
      admit();
      write();
    },
    () => closed,
  );

  const order = createOrderBuffer<{ outcome: Outcome; slot: boolean }>(
    config.ordered,
    ({ outcome, slot }) => {
      if (closed) return;
      if (slot) occupied -= 1;
      subscriber.next(outcome);
      outcome.lease?.release();
    },
  );

  const core: SessionCore = {
    config,
    pending,
    outbox: [],
    answers: undefined as unknown as SessionCore['answers'],
    deliver(n, outcome, slot) {
      order.push(n, { outcome, slot });
      core.pump();
    },
    pump() {
      if (drain()) maybeEnd();
    },
  };
  (core as { answers: SessionCore['answers'] }).answers = createAnswers(core);
  const connection = createConnection(client, core, { halfClosed: () => halfClosed, fail, end });

  function admit(): void {
    while (waiting.length > 0 && !failing) {
      const unit = waiting[0] as Entry[];
      if (occupied > 0 && occupied + unit.length > config.maxInFlight) return;
      waiting.shift();
      occupied += unit.length;
      for (const entry of unit) {
        entry.admitted = true;
        entry.state = 'queued';
      }
      core.outbox.push({ entries: unit, kind: 'send' });
    }
  }

  function write(): void {
    if (closed || failing || halfClosed) return;
    for (let link = connection.writable(); link && core.outbox.length > 0; link = connection.writable()) {
      const unit = core.outbox.shift() as Unit;
      const entries = unit.entries.filter((e) => e.state === 'queued' && pending.holds(e));
      if (entries.length > 0) core.answers.written(entries, unit.kind, link);
    }
  }

  function maybeEnd(): void {
    if (closed || failing || halfClosed || !inputDone) return;
    if (pending.size > 0 || waiting.length > 0 || order.size > 0) return;
    halfClosed = true;
    if (connection.halfClose()) closeTimer = config.scheduler.schedule(end, config.closeTimeoutMs);
    else end();
  }

  /** Every pending item fails at stage `transport`, then the error is reported. */
  function fail(error: AthenaError): void {
    failing = true;
    const entries = pending.all().sort((a, b) => a.seq - b.seq);
    waiting.length = 0;
    core.outbox.length = 0;
    for (const entry of entries) pending.settle(entry, false);
    for (const entry of entries) {
      order.push(entry.seq, { outcome: toFailure(entry.item, 'transport', error), slot: entry.admitted });
    }
    if (closed) return;
    teardown();
    subscriber.error(error);
  }

  function end(): void {
    if (closed) return;
    teardown();
    if (inputError) subscriber.error(inputError.error);
    else subscriber.complete();
  }

  function teardown(): void {
    closed = true;
    for (const entry of pending.all()) entry.timer?.unsubscribe();
    closeTimer?.unsubscribe();
    connection.close();
  }

  function accept(items: readonly ImageItem[]): void {
    const { unit, rejected } = intake(items, seq, pending, config.affiliate);
    seq += items.length;
    if (unit.length > 0) waiting.push(unit);
    for (const [n, failure] of rejected) order.push(n, { outcome: failure, slot: false });
  }

  return {
    /** Opens the call; the operator does this when subscribed, before taking input. */
    start: () => connection.open(),
    input(value: ClassifyInput): void {
      if (closed) return;
      if (value.kind === 'failure' || value.kind === 'classified')
        order.push(seq++, { outcome: value, slot: false });
      else accept(value.kind === 'batch' ? value.items : [value]);
      core.pump();
    },
    complete(): void {
      if (closed) return;
      inputDone = true;
      core.pump();
    },
    error(error: unknown): void {
      if (closed) return;
      inputDone = true;
      inputError = { error };
      core.pump();
    },
    /** Unsubscribed: cancel the call and every timer; nothing more is written or emitted. */
    close(): void {
      if (!closed) teardown();
    },
  };
}
