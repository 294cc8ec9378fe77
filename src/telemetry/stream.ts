/**
 * Telemetry of one `classify` subscription, fed by the classify shell: a span per Classify stream
 * connection (RPC attributes, the final gRPC status code, events for reconnects, stalls, global errors
 * and keepalives) and the metrics that follow from its events and outcomes. A call's span ends once
 * the step that ended the call has run, so that the reconnect it decided lands on it, with the time
 * the call really ended.
 */
import type { Attributes, Context, Span, Tracer } from '@opentelemetry/api';
import type { AthenaError } from '../errors.js';
import { KNOWN_MD5_LABEL, KNOWN_SHA1_LABEL } from '../labels.js';
import type { ImageBatch, ImageItem, ItemFailure, Classified, Outcome } from '../model.js';
import type { ClassifyEvent } from '../transport/contracts.js';
import { otelApi } from './api.js';
import { imageTraces } from './image-trace.js';
import { imageSpans } from './images.js';
import { instrumentsOf, type Instruments } from './instruments.js';
import {
  meterOf,
  rpcAttributes,
  RPC_SERVICE,
  serverAttributes,
  statusOf,
  tracerOf,
  type TelemetrySetup,
  GRPC_CANCELLED,
  SPAN_KIND_CLIENT,
  STATUS_ERROR,
} from './setup.js';

/** What the shell reports to telemetry; every method is cheap and never throws. */
export interface StreamTelemetry {
  opened(stream: number): void;
  ended(stream: number, error: AthenaError | undefined): void;
  cancelled(stream: number): void;
  event(event: ClassifyEvent): void;
  /** A request with these correlation ids was written on call `stream`. */
  written(stream: number, ids: readonly string[]): void;
  input(value: ImageItem | ImageBatch | ItemFailure | Classified): void;
  outcome(outcome: Outcome): void;
  /** The step that raised the last events has run: calls that ended get their spans ended. */
  settle(): void;
  /** The subscription is over: every span ends, images still counted in flight are taken out. */
  close(): void;
}

interface CallSpan {
  readonly stream: number;
  readonly span: Span | undefined;
  readonly startedAt: number;
  endedAt?: number;
  code?: number;
  error?: string;
}

/**
 * The telemetry of one subscription, or undefined when nothing would record it (no provider given
 * and the API not installed): then the shell's only cost is a branch.
 */
export function streamTelemetry(
  setup: TelemetrySetup,
  target: string | undefined,
  deploymentId: string,
  traceImages: { readonly images: boolean; readonly refs: boolean } = { images: false, refs: false },
): StreamTelemetry | undefined {
  const tracer: Tracer | undefined = tracerOf(setup);
  const meter = meterOf(setup);
  if (tracer === undefined && meter === undefined) return undefined;
  const metrics: Instruments | undefined = meter && instrumentsOf(meter);
  const parent: Context | undefined = otelApi()?.context.active();
  const server = serverAttributes(target);
  const attributes: Attributes = {
    ...rpcAttributes('Classify', server),
    'athena.deployment_id': deploymentId,
  };
  const metricAttributes = rpcAttributes('Classify', server);
  const calls: CallSpan[] = [];
  // Images traced from their source are ended here whatever `traceImages` says.
  const images = imageSpans(
    traceImages.images && tracer !== undefined ? imageTraces(tracer, undefined, traceImages.refs) : undefined,
  );
  let inflight = 0;

  const current = (): CallSpan | undefined => calls[calls.length - 1];
  const finish = (call: CallSpan, at: number, code: number, error?: string) => {
    if (call.endedAt !== undefined) return;
    call.endedAt = at;
    call.code = code;
    if (error !== undefined) call.error ??= error;
  };
  const addEvent = (name: string, eventAttributes?: Attributes) =>
    current()?.span?.addEvent(name, eventAttributes);

  const telemetry: StreamTelemetry = {
    opened(stream) {
      const span = tracer?.startSpan(
        `${RPC_SERVICE}/Classify`,
        { kind: SPAN_KIND_CLIENT, attributes },
        parent,
      );
      calls.push({ stream, span, startedAt: Date.now() });
    },
    ended(stream, error) {
      const call = calls.find((c) => c.stream === stream);
      if (call) finish(call, Date.now(), error === undefined ? 0 : statusOf(error), error?.code);
    },
    cancelled(stream) {
      const call = calls.find((c) => c.stream === stream);
      if (call) finish(call, Date.now(), GRPC_CANCELLED);
    },
    event(event) {
      switch (event.type) {
        case 'sent':
          metrics?.payloadSize.record(event.bytes, metricAttributes);
          return;
        case 'reconnect': {
          const type = (event.error as Partial<AthenaError>).code ?? 'UNKNOWN';
          metrics?.reconnects.add(1, { ...metricAttributes, 'error.type': type });
          addEvent('reconnect', {
            'athena.attempt': event.attempt,
            'athena.delay_ms': event.delayMs,
            'error.type': type,
          });
          return;
        }
        case 'stall': {
          const call = current();
          if (call !== undefined) call.error ??= 'STALLED';
          addEvent('stall', { 'athena.after_ms': event.afterMs, 'athena.items': event.items });
          return;
        }
        case 'global-error':
          addEvent('global_error', {
            'athena.items': event.items,
            'error.type': (event.error as Partial<AthenaError>).code ?? 'GLOBAL_ERROR',
          });
          return;
        case 'keepalive':
          addEvent('keepalive');
          return;
        default:
          return;
      }
    },
    written(stream, ids) {
      images.written(ids, calls.find((c) => c.stream === stream)?.span);
    },
    input(value) {
      images.input(value);
      const n = value.kind === 'batch' ? value.items.length : 1;
      inflight += n;
      metrics?.inflight.add(n, metricAttributes);
    },
    outcome(outcome) {
      images.outcome(outcome);
      inflight -= 1;
      if (metrics === undefined) return;
      metrics.inflight.add(-1, metricAttributes);
      if (outcome.ok) {
        metrics.images.add(1, { 'athena.outcome': 'classified' });
        const labels = outcome.labels;
        if (labels[KNOWN_MD5_LABEL] === 1 || labels[KNOWN_SHA1_LABEL] === 1) metrics.knownHashMatches.add(1);
      } else {
        metrics.images.add(1, {
          'athena.outcome': 'failed',
          'athena.stage': outcome.stage,
          'error.type': outcome.error.code,
        });
      }
    },
    settle() {
      while (calls.length > 0 && calls.some((c) => c.endedAt !== undefined)) {
        const index = calls.findIndex((c) => c.endedAt !== undefined);
        const [call] = calls.splice(index, 1);
        if (call !== undefined) end(call);
      }
    },
    close() {
      const now = Date.now();
      for (const call of calls) finish(call, now, GRPC_CANCELLED);
      telemetry.settle();
      images.close();
      if (inflight !== 0) metrics?.inflight.add(-inflight, metricAttributes);
      inflight = 0;
    },
  };

  function end(call: CallSpan): void {
    const at = call.endedAt ?? Date.now();
    const code = call.code ?? GRPC_CANCELLED;
    metrics?.rpcDuration.record(Math.max(0, at - call.startedAt), {
      ...metricAttributes,
      'rpc.grpc.status_code': code,
    });
    const span = call.span;
    if (span === undefined) return;
    span.setAttribute('rpc.grpc.status_code', code);
    if (call.error !== undefined) span.setStatus({ code: STATUS_ERROR, message: call.error });
    span.end(at);
  }

  return telemetry;
}
