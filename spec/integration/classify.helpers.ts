/**
 * Shared parts of the integration specs of `classify` and `classifyEach`: real images for the embedded
 * server, a scheduler that knows which of its timers are still live, and a run that collects
 * outcomes, events and the final notification.
 */
import { brotliCompressSync } from 'node:zlib';
import {
  asyncScheduler,
  type Observable,
  type OperatorFunction,
  type SchedulerAction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { expect } from 'vitest';
import type { AthenaError } from '../../src/errors.js';
import { ImageFormat, RequestEncoding } from '../../src/generated/athena/models.js';
import { imageItem, type ImageBatch, type ImageItem, type Outcome } from '../../src/model.js';
import type { ClassifyEvent } from '../../src/transport/contracts.js';

const SIDE = 448;

/** A 448 x 448 B,G,R image of one colour, Brotli-compressed as the service recommends. */
function pixels(b: number, g: number, r: number): Buffer {
  const raw = Buffer.alloc(SIDE * SIDE * 3);
  for (let i = 0; i < raw.length; i += 3) {
    raw[i] = b;
    raw[i + 1] = g;
    raw[i + 2] = r;
  }
  return brotliCompressSync(raw);
}

const IMAGES = [pixels(235, 206, 135), pixels(34, 139, 34), pixels(20, 20, 200)];

export interface CountedLease {
  released: number;
  release(): void;
}

/** `n` items with unique ids under `prefix`, each holding a lease that counts its releases. */
export function makeItems(prefix: string, n: number): { items: ImageItem[]; leases: CountedLease[] } {
  const leases: CountedLease[] = [];
  const items = Array.from({ length: n }, (_, index) => {
    const lease: CountedLease = {
      released: 0,
      release() {
        lease.released += 1;
      },
    };
    leases.push(lease);
    return imageItem({
      ref: `${prefix}/${index}.png`,
      data: IMAGES[index % IMAGES.length] as Buffer,
      format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR,
      encoding: RequestEncoding.REQUEST_ENCODING_BROTLI,
      correlationId: `${prefix}-${index}`,
      index,
      lease,
    });
  });
  return { items, leases };
}

export function inBatches(items: readonly ImageItem[], size: number): ImageBatch[] {
  const batches: ImageBatch[] = [];
  for (let i = 0; i < items.length; i += size) {
    const part = items.slice(i, i + size);
    batches.push({ kind: 'batch', items: part, bytes: part.reduce((n, item) => n + item.data.length, 0) });
  }
  return batches;
}

/** The real async scheduler, keeping count of the timers scheduled on it that are still live. */
export function trackedScheduler(): SchedulerLike & { readonly live: number } {
  const live = new Set<Subscription>();
  return {
    get live() {
      return live.size;
    },
    now: () => asyncScheduler.now(),
    schedule<T>(
      work: (this: SchedulerAction<T>, state?: T) => void,
      delay?: number,
      state?: T,
    ): Subscription {
      const action: Subscription = asyncScheduler.schedule<T>(
        function (this: SchedulerAction<T>, s?: T) {
          live.delete(action);
          work.call(this, s);
        },
        delay,
        state,
      );
      live.add(action);
      action.add(() => live.delete(action));
      return action;
    },
  };
}

export interface RunResult {
  readonly outcomes: Outcome[];
  readonly events: ClassifyEvent[];
  readonly error: AthenaError | undefined;
}

/** Subscribes, collects everything, and resolves at the end (complete or error). */
export function run<T>(
  input: Observable<T>,
  operator: OperatorFunction<T, Outcome>,
  events: ClassifyEvent[] = [],
): Promise<RunResult> {
  const outcomes: Outcome[] = [];
  return new Promise((resolve) => {
    input.pipe(operator).subscribe({
      next: (outcome) => outcomes.push(outcome),
      error: (error: AthenaError) => resolve({ outcomes, events, error }),
      complete: () => resolve({ outcomes, events, error: undefined }),
    });
  });
}

/** Every item has exactly one outcome, carrying its ref, index and correlation id; every lease released once. */
export function expectExactlyOnce(
  outcomes: readonly Outcome[],
  items: readonly ImageItem[],
  leases: readonly CountedLease[],
): void {
  expect(outcomes.map((o) => o.ref).sort()).toEqual(items.map((i) => i.ref).sort());
  for (const outcome of outcomes) {
    const item = items[outcome.index as number] as ImageItem;
    expect(outcome.ref).toBe(item.ref);
    expect(outcome.correlationId).toBe(item.correlationId);
  }
  expect(leases.map((l) => l.released)).toEqual(leases.map(() => 1));
}

export function count(outcomes: readonly Outcome[], what: (o: Outcome) => boolean): number {
  return outcomes.filter(what).length;
}

/** Waits until `check` holds, polling, or fails after `ms`. */
export async function eventually(check: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
