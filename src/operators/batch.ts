import {
  Observable,
  asyncScheduler,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { type ImageBatch, type ImageItem } from '../model.js';
import { assertFunction, assertInteger, assertNumber } from '../internal/core/validate.js';

export interface BatchOptions {
  /** Most images per batch, 1..1000. Default 32 (PROTOCOL.md suggests 10 to 50). */
  readonly size?: number;
  /** Longest time the oldest image of a batch waits before the batch is sent; `Infinity` for never. Default 50. */
  readonly maxWaitMs?: number;
  /**
   * Most image bytes per batch. Default 24 MiB, well below a 64 MiB channel message limit. An image
   * larger than this on its own goes alone.
   */
  readonly maxBytes?: number;
  /** Where the `maxWaitMs` timers run. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** The default `maxBytes`: 24 MiB. */
export const DEFAULT_BATCH_MAX_BYTES = 24 * 1024 * 1024;

/**
 * Groups images into {@link ImageBatch}es, one per `ClassifyRequest`. A batch is emitted when it
 * holds `size` images, when one more image would take it past `maxBytes`, or when its oldest image
 * has waited `maxWaitMs`. Failures and any other non-image values pass straight through at once (so
 * they may overtake images still waiting in a batch). On completion the open batch is emitted, then
 * completion; on error the open batch is emitted too, then the error, so no image vanishes without
 * reaching the next stage. Unsubscribing drops the open batch and clears its timer. Batches never
 * exceed `maxBytes` unless one image alone does.
 *
 * ```text
 * size 3, maxWaitMs 5 (a, b, c, d images; f a failure)
 * source:  a-b-f-c-d-----|
 * output:  ----fx-----y--|     x = [a, b] once a waited 5; y = [c, d] once c waited 5
 * ```
 *
 * @example
 * ```ts
 * import { batch, classify } from 'athena-rx/operators';
 *
 * prepared$.pipe(batch({ size: 32, maxWaitMs: 50 }), classify(client, { deploymentId }));
 * ```
 * @param options.size images per batch, default 32 (1..1000)
 * @param options.maxWaitMs default 50 ms
 * @param options.maxBytes default 24 MiB
 * @param options.scheduler default `asyncScheduler`
 */
export function batch<T>(
  options: BatchOptions = {},
): OperatorFunction<T, Exclude<T, ImageItem> | ImageBatch> {
  const size = assertInteger('size', options.size ?? 32, 1, 1000);
  const maxWaitMs = assertNumber('maxWaitMs', options.maxWaitMs ?? 50, 0);
  const maxBytes = assertInteger('maxBytes', options.maxBytes ?? DEFAULT_BATCH_MAX_BYTES, 1, 2 ** 31 - 1);
  const scheduler = options.scheduler ?? asyncScheduler;
  assertFunction('scheduler.schedule', scheduler?.schedule);

  return (source) =>
    new Observable<Exclude<T, ImageItem> | ImageBatch>((subscriber) => {
      let items: ImageItem[] = [];
      let bytes = 0;
      let timer: Subscription | undefined;

      const flush = (): void => {
        timer?.unsubscribe();
        timer = undefined;
        if (items.length === 0) return;
        const ready: ImageBatch = { kind: 'batch', items, bytes };
        items = [];
        bytes = 0;
        subscriber.next(ready);
      };

      const add = (item: ImageItem): void => {
        const itemBytes = item.data.byteLength;
        if (items.length > 0 && bytes + itemBytes > maxBytes) flush();
        items.push(item);
        bytes += itemBytes;
        if (items.length >= size || bytes >= maxBytes) flush();
        else if (items.length === 1 && maxWaitMs !== Number.POSITIVE_INFINITY) {
          timer = scheduler.schedule(flush, maxWaitMs);
        }
      };

      const subscription = source.subscribe({
        next: (value) => {
          if (isImage(value)) add(value);
          else subscriber.next(value as Exclude<T, ImageItem>);
        },
        error: (error: unknown) => {
          flush();
          subscriber.error(error);
        },
        complete: () => {
          flush();
          subscriber.complete();
        },
      });

      return () => {
        subscription.unsubscribe();
        timer?.unsubscribe();
        items = [];
      };
    });
}

function isImage(value: unknown): value is ImageItem {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'image';
}
