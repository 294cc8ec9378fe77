/**
 * The OpenTelemetry API, loaded lazily: `@opentelemetry/api` is an optional peer dependency, so it is
 * imported on first use and, when it is not installed (or cannot load), everything here answers
 * `undefined` and nothing is recorded. The specifier is not a literal, so bundlers leave it alone.
 */
import type * as Otel from '@opentelemetry/api';

/** The module `@opentelemetry/api` as this package uses it. */
export type OtelApi = typeof Otel;

const SPECIFIER = ['@opentelemetry', 'api'].join('/');

let api: OtelApi | undefined;
let loading: Promise<OtelApi | undefined> | undefined;

function usable(module: unknown): module is OtelApi {
  const m = module as Partial<OtelApi> | undefined;
  return typeof m?.trace?.getTracerProvider === 'function' && typeof m.context?.active === 'function';
}

/**
 * Starts loading the API once and resolves with it, or with undefined when it cannot be loaded.
 * Never rejects.
 */
export function loadOtelApi(): Promise<OtelApi | undefined> {
  loading ??= import(/* @vite-ignore */ SPECIFIER).then(
    (module: unknown) => {
      const found = usable(module) ? module : (module as { default?: unknown }).default;
      api = usable(found) ? found : undefined;
      return api;
    },
    () => undefined,
  );
  return loading;
}

/**
 * The API if it has loaded, else undefined (starting the load, so that the next subscription has it).
 * The load begins when an operator or client that records telemetry is created.
 */
export function otelApi(): OtelApi | undefined {
  if (loading === undefined) void loadOtelApi();
  return api;
}
