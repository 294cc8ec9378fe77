/**
 * Per-image spans of `classify` (option `traceImages`): one span `athena.image` per image from the
 * moment `classify` takes it in to its outcome, with a `written` event and a link to the stream span
 * each time it is written on a connection. The image's `ref` (a path or URL, maybe private) is an
 * attribute only when `traceRefs` allows it.
 */
import type { Context, Span, Tracer } from '@opentelemetry/api';
import type { ImageBatch, ImageItem, ItemFailure, Classified, Outcome } from '../model.js';
import { STATUS_ERROR } from './setup.js';

/** What the stream telemetry reports to the per-image spans. */
export interface ImageSpans {
  input(value: ImageItem | ImageBatch | ItemFailure | Classified): void;
  written(ids: readonly string[], stream: Span | undefined): void;
  outcome(outcome: Outcome): void;
  close(): void;
}

export function imageSpans(tracer: Tracer, parent: Context | undefined, refs: boolean): ImageSpans {
  const spans = new Map<string, Span>();
  const start = (item: ImageItem) => {
    const id = item.correlationId;
    // Without an id, or with one already pending, the image fails validation: its outcome says so.
    if (id === undefined || spans.has(id)) return;
    const attributes = refs
      ? { 'athena.correlation_id': id, 'athena.ref': item.ref }
      : { 'athena.correlation_id': id };
    spans.set(id, tracer.startSpan('athena.image', { attributes }, parent));
  };
  return {
    input(value) {
      if (value.kind === 'batch') value.items.forEach(start);
      else if (value.kind === 'image') start(value);
    },
    written(ids, stream) {
      const context = stream?.spanContext();
      for (const id of ids) {
        const span = spans.get(id);
        if (span === undefined) continue;
        span.addEvent('written');
        if (context !== undefined && typeof span.addLink === 'function') span.addLink({ context });
      }
    },
    outcome(outcome) {
      const id = outcome.correlationId;
      const span = id === undefined ? undefined : spans.get(id);
      if (span === undefined || id === undefined) return;
      spans.delete(id);
      if (outcome.ok) span.setAttribute('athena.outcome', 'classified');
      else {
        span.setAttributes({
          'athena.outcome': 'failed',
          'athena.stage': outcome.stage,
          'error.type': outcome.error.code,
        });
        span.setStatus({ code: STATUS_ERROR, message: outcome.error.code });
      }
      span.end();
    },
    close() {
      for (const span of spans.values()) span.end();
      spans.clear();
    },
  };
}
