import type { Subscription } from 'rxjs';
import type { ClassificationInput } from '../generated/athena/models.js';
import type { ImageItem } from '../model.js';

/**
 * Where a pending item stands: `waiting` for a slot of the in-flight window, `queued` for the stream
 * (first send, re-send after a reconnect, or retry), `sent` and unanswered, or in `backoff` before a
 * retry.
 */
export type EntryState = 'waiting' | 'queued' | 'sent' | 'backoff';

/** One item of a `classify` subscription between its arrival and its outcome. */
export interface Entry {
  readonly id: string;
  readonly item: ImageItem;
  readonly input: ClassificationInput;
  /** Position among the subscription's inputs, for ordered output. */
  readonly seq: number;
  state: EntryState;
  /** Holds a slot of the in-flight window (released when its outcome is emitted). */
  admitted: boolean;
  /** Attempts under the retry policy, the first included. */
  attempt: number;
  /** When it was first written; undefined while it never was. */
  firstSentAt: number | undefined;
  /** The request batch it was last written in. */
  batch: SentBatch | undefined;
  /** Its timeout or retry timer. */
  timer: Subscription | undefined;
}

/** A request batch written on the current stream. */
export interface SentBatch {
  readonly entries: readonly Entry[];
  /** Some output for one of its items arrived. */
  answered: boolean;
}

/** What an output's correlation id refers to. */
export type Lookup =
  | { readonly kind: 'pending'; readonly entry: Entry }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'foreign' };

/**
 * The pending table of one subscription: items by correlation id, a bounded memory of ids already
 * answered (a late second output is a duplicate, not a foreign one), and the batches written on the
 * current stream that have no output yet (to tie a `global_error` to its batch). A batch leaves that
 * list as soon as an output answers one of its items or none of its items is left in flight: it holds
 * its items' bytes, which must not outlive their outcomes.
 */
export function createPendingTable(memory: number) {
  const entries = new Map<string, Entry>();
  const answered = new Set<string>();
  let unanswered: SentBatch[] = [];
  let pruneAt = 64;

  const remember = (id: string) => {
    answered.delete(id);
    answered.add(id);
    if (answered.size > memory) answered.delete(answered.values().next().value as string);
  };

  const liveOf = (batch: SentBatch) =>
    batch.entries.filter((e) => e.batch === batch && e.state === 'sent' && entries.get(e.id) === e);

  const drop = (batch: SentBatch) => {
    const at = unanswered.indexOf(batch);
    if (at !== -1) unanswered.splice(at, 1);
  };

  const markAnswered = (batch: SentBatch) => {
    batch.answered = true;
    drop(batch);
  };

  return {
    get size(): number {
      return entries.size;
    },
    has: (id: string): boolean => entries.has(id),
    /** Whether this entry (not just its id) is still pending. */
    holds: (entry: Entry): boolean => entries.get(entry.id) === entry,
    add(entry: Entry): void {
      answered.delete(entry.id);
      entries.set(entry.id, entry);
    },
    /**
     * Removes an entry that got its outcome (a later output for its id is a duplicate). `byOutput`: an
     * output answered it, so its batch is not the one a later global error answers.
     */
    settle(entry: Entry, byOutput: boolean): void {
      entry.timer?.unsubscribe();
      entry.timer = undefined;
      if (entries.get(entry.id) === entry) entries.delete(entry.id);
      remember(entry.id);
      const { batch } = entry;
      if (batch === undefined) return;
      if (byOutput) markAnswered(batch);
      else if (!batch.answered && liveOf(batch).length === 0) drop(batch);
    },
    /** An output arrived for an item of `batch`, so no global error answers it. */
    answered: markAnswered,
    /** Batches kept for global errors: written on this stream, no output yet, items still in flight. */
    get batches(): number {
      return unanswered.length;
    },
    lookup(id: string): Lookup {
      const entry = entries.get(id);
      if (entry === undefined) return answered.has(id) ? { kind: 'duplicate' } : { kind: 'foreign' };
      // Never sent: the output is another client's. In backoff after an error, an output is still taken:
      // it may answer an item a global error was wrongly tied to.
      if (entry.firstSentAt === undefined) return { kind: 'foreign' };
      return { kind: 'pending', entry };
    },
    wrote(batch: SentBatch): void {
      unanswered.push(batch);
      if (unanswered.length < pruneAt) return;
      unanswered = unanswered.filter((b) => !b.answered && liveOf(b).length > 0);
      pruneAt = Math.max(64, unanswered.length * 2);
    },
    /** The stream broke: nothing written on it can be answered by a global error any more. */
    forgetBatches(): void {
      unanswered = [];
    },
    /**
     * The items a `global_error` fails. Responses are not tied to batches, but a global error answers a
     * whole batch and comes without outputs, so the batch it answers has had no output: take the oldest
     * batch written on this stream with no output and unanswered items. With none, every item in flight.
     */
    globalErrorTargets(): Entry[] {
      while (unanswered.length > 0) {
        const batch = unanswered.shift() as SentBatch;
        if (batch.answered) continue;
        const live = liveOf(batch);
        if (live.length > 0) return live;
      }
      return this.inState('sent');
    },
    inState(state: EntryState): Entry[] {
      return [...entries.values()].filter((e) => e.state === state);
    },
    all(): Entry[] {
      return [...entries.values()];
    },
  };
}

export type PendingTable = ReturnType<typeof createPendingTable>;
