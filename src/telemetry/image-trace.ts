/**
 * The trace of one image (see `ImageTrace`): a span `athena.image` from the moment the image was
 * read (or taken in by `classify`) to its outcome, a child span per step (`athena.image.read`,
 * `.hash`, `.prepare`, `.compress`) and one for the wait for its output (`athena.image.wait`), and the
 * histograms `athena.client.prepare.duration` and `athena.client.image.duration`.
 */
import type { Attributes, Context, Span, Tracer } from '@opentelemetry/api';
import { otelApi } from './api.js';
import { instrumentsOf, type Instruments } from './instruments.js';
import type { ImagePhase, ImageTelemetrySetup, ImageTrace, ImageTraceOutcome } from './options.js';
import { meterOf, STATUS_ERROR, tracerOf } from './setup.js';

/** Starts the trace of the image `ref`, whose life began at `startedAt` (a {@link traceClock} time). */
export type StartImageTrace = (ref: string, startedAt: number) => ImageTrace;

/** Milliseconds since the epoch, with fractions: the time spans and durations are measured in. */
export const traceClock = (): number => performance.timeOrigin + performance.now();

/**
 * For one subscription of a source: how to start image traces, or undefined when nothing would
 * record them (no tracer with `traceImages`, no meter), so that the source's cost is a branch.
 */
export function sourceImageTraces(setup: ImageTelemetrySetup): StartImageTrace | undefined {
  const tracer = setup.images ? tracerOf(setup) : undefined;
  const meter = meterOf(setup);
  if (tracer === undefined && meter === undefined) return undefined;
  return imageTraces(tracer, meter && instrumentsOf(meter), setup.refs);
}

/** Image traces to `tracer` and `metrics`, children of the context active now. */
export function imageTraces(
  tracer: Tracer | undefined,
  metrics: Instruments | undefined,
  refs: boolean,
): StartImageTrace {
  const api = otelApi();
  const parent: Context | undefined = api?.context.active();
  return (ref, startedAt) => {
    const span = tracer?.startSpan(
      'athena.image',
      { startTime: startedAt, attributes: refs ? { 'athena.ref': ref } : {} },
      parent,
    );
    // Children need the API to put the image span in a context; without it only the image span is kept.
    const context = span && api ? api.trace.setSpan(parent ?? api.context.active(), span) : undefined;
    return imageTrace(startedAt, span, tracer, context, metrics);
  };
}

function imageTrace(
  startedAt: number,
  span: Span | undefined,
  tracer: Tracer | undefined,
  context: Context | undefined,
  metrics: Instruments | undefined,
): ImageTrace {
  let wait: Span | undefined;
  let ended = false;
  const child = (name: string, from: number): Span | undefined =>
    context && tracer?.startSpan(`athena.image.${name}`, { startTime: from }, context);
  return {
    now: traceClock,
    phase(phase: ImagePhase, from: number, error?: string) {
      if (ended) return;
      const at = traceClock();
      if (phase === 'prepare') {
        metrics?.prepareDuration.record(at - from, error === undefined ? {} : { 'error.type': error });
      }
      const step = child(phase, from);
      if (step === undefined) return;
      if (error !== undefined) {
        step.setAttribute('error.type', error);
        step.setStatus({ code: STATUS_ERROR, message: error });
      }
      step.end(at);
    },
    waiting(correlationId?: string) {
      if (ended) return;
      if (correlationId !== undefined) span?.setAttribute('athena.correlation_id', correlationId);
      wait ??= child('wait', traceClock());
    },
    written(stream: unknown) {
      if (ended || span === undefined) return;
      span.addEvent('written');
      const linked = (stream as Span | undefined)?.spanContext();
      if (linked !== undefined && typeof span.addLink === 'function') span.addLink({ context: linked });
    },
    end(outcome?: ImageTraceOutcome) {
      if (ended) return;
      ended = true;
      const at = traceClock();
      wait?.end(at);
      if (outcome === undefined) {
        span?.end(at);
        return;
      }
      const attributes: Attributes = outcome.ok
        ? { 'athena.outcome': 'classified' }
        : {
            'athena.outcome': 'failed',
            'athena.stage': outcome.stage ?? 'unknown',
            'error.type': outcome.error?.code ?? 'UNKNOWN',
          };
      metrics?.imageDuration.record(at - startedAt, attributes);
      if (span === undefined) return;
      span.setAttributes(attributes);
      if (!outcome.ok) span.setStatus({ code: STATUS_ERROR, message: String(attributes['error.type']) });
      span.end(at);
    },
    toJSON: () => undefined,
  };
}
