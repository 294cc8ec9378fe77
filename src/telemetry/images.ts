/**
 * The image traces as `classify` sees them: each image taken in gets its trace waiting (the one its
 * source started, or, with `traceImages`, one started now), each write links it to the stream span
 * that carried it, and its outcome ends it. Traces are found by correlation id while pending.
 */
import type { Span } from '@opentelemetry/api';
import type { ImageBatch, ImageItem, ItemFailure, Classified, Outcome } from '../model.js';
import { traceClock, type StartImageTrace } from './image-trace.js';
import type { ImageTrace } from './options.js';

/** What the stream telemetry reports to the per-image traces. */
export interface ImageSpans {
  input(value: ImageItem | ImageBatch | ItemFailure | Classified): void;
  written(ids: readonly string[], stream: Span | undefined): void;
  outcome(outcome: Outcome): void;
  close(): void;
}

/** `start` makes traces for images that come without one (`traceImages`); undefined: none. */
export function imageSpans(start: StartImageTrace | undefined): ImageSpans {
  const traces = new Map<string, ImageTrace>();
  const take = (item: ImageItem) => {
    const id = item.correlationId;
    // Without an id, or with one already pending, the image fails validation: its outcome says so.
    if (id === undefined || traces.has(id)) return;
    const trace = item.trace ?? start?.(item.ref, traceClock());
    if (trace === undefined) return;
    trace.waiting(id);
    traces.set(id, trace);
  };
  return {
    input(value) {
      if (value.kind === 'batch') value.items.forEach(take);
      else if (value.kind === 'image') take(value);
    },
    written(ids, stream) {
      for (const id of ids) traces.get(id)?.written(stream);
    },
    outcome(outcome) {
      const id = outcome.correlationId;
      // A duplicate id's failure belongs to the second image, not to the pending one with that id.
      const duplicate = !outcome.ok && outcome.error.code === 'DUPLICATE_ID';
      const pending = id === undefined || duplicate ? undefined : traces.get(id);
      const trace = outcome.trace ?? pending;
      if (id !== undefined && pending !== undefined && pending === trace) traces.delete(id);
      trace?.end(outcome);
    },
    close() {
      for (const trace of traces.values()) trace.end();
      traces.clear();
    },
  };
}
