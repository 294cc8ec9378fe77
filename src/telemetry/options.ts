/**
 * The telemetry options of `classify` and `AthenaClient`, typed without `@opentelemetry/api` (so that
 * the declarations compile where it is not installed), and their check at call time.
 */
import { otelApi as startLoading } from './api.js';

/** An OpenTelemetry `TracerProvider` (from `@opentelemetry/api`), as far as athena-rx uses it. */
export interface TracerProviderLike {
  getTracer(name: string, version?: string): unknown;
}

/** An OpenTelemetry `MeterProvider` (from `@opentelemetry/api`), as far as athena-rx uses it. */
export interface MeterProviderLike {
  getMeter(name: string, version?: string): unknown;
}

/** Telemetry options shared by `classify` and `AthenaClient`. */
export interface TelemetryOptions {
  /** Where spans go (default: the global tracer provider of `@opentelemetry/api`, if installed). */
  readonly tracerProvider?: TracerProviderLike;
  /** Where metrics go (default: the global meter provider of `@opentelemetry/api`, if installed). */
  readonly meterProvider?: MeterProviderLike;
}

/** The checked telemetry options. */
export interface TelemetrySetup {
  readonly tracerProvider: TracerProviderLike | undefined;
  readonly meterProvider: MeterProviderLike | undefined;
}

/** Checks the telemetry options at call time (TypeError) and starts loading the API. */
export function telemetrySetup(options: TelemetryOptions): TelemetrySetup {
  const { tracerProvider, meterProvider } = options;
  if (tracerProvider !== undefined && typeof tracerProvider?.getTracer !== 'function') {
    throw new TypeError('tracerProvider must be an OpenTelemetry TracerProvider (with getTracer)');
  }
  if (meterProvider !== undefined && typeof meterProvider?.getMeter !== 'function') {
    throw new TypeError('meterProvider must be an OpenTelemetry MeterProvider (with getMeter)');
  }
  startLoading();
  return { tracerProvider, meterProvider };
}

/** The telemetry options of the sources, and of `classify`: where telemetry goes, and per-image spans. */
export interface ImageTelemetryOptions extends TelemetryOptions {
  /**
   * A span `athena.image` per image (default false). Given to a source, the span runs from the read
   * to the outcome, with a child span for each step (see docs/observability.md).
   */
  readonly traceImages?: boolean;
  /** Put each image's `ref` on its span as `athena.ref` (default false: refs can be private paths or URLs). */
  readonly traceRefs?: boolean;
}

/** The checked per-image telemetry options. */
export interface ImageTelemetrySetup extends TelemetrySetup {
  readonly images: boolean;
  readonly refs: boolean;
}

/** Checks the per-image telemetry options at call time (TypeError) and starts loading the API. */
export function imageTelemetrySetup(options: ImageTelemetryOptions): ImageTelemetrySetup {
  const { traceImages = false, traceRefs = false } = options;
  if (typeof traceImages !== 'boolean') throw new TypeError('traceImages must be a boolean');
  if (typeof traceRefs !== 'boolean') throw new TypeError('traceRefs must be a boolean');
  return { ...telemetrySetup(options), images: traceImages, refs: traceRefs };
}

export type { ImagePhase, ImageTrace, ImageTraceOutcome } from '../model.js';
