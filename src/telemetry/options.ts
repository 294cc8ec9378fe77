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
