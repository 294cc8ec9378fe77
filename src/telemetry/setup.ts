/**
 * Where telemetry goes: the `tracerProvider` and `meterProvider` options (checked when an operator or
 * client is created), else the global providers of `@opentelemetry/api`; the server a client talks
 * to, as `server.address` and `server.port`; and the attributes every RPC span and metric carries.
 */
import type { Attributes, Meter, MeterProvider, Tracer, TracerProvider } from '@opentelemetry/api';
import { GRPC_STATUS_NAMES, type AthenaError } from '../errors.js';
import { otelApi } from './api.js';
import type { TelemetrySetup } from './options.js';

export type { TelemetrySetup };

/** The name this package's tracer and meter are registered under. */
export const INSTRUMENTATION_NAME = 'athena-rx';

/** The gRPC service of every span and metric. */
export const RPC_SERVICE = 'athena.ClassifierService';

/** The tracer to use now, or undefined when there is no provider and no API. */
export function tracerOf(setup: TelemetrySetup): Tracer | undefined {
  const provider =
    (setup.tracerProvider as TracerProvider | undefined) ?? otelApi()?.trace.getTracerProvider();
  return provider?.getTracer(INSTRUMENTATION_NAME);
}

/** The meter to use now, or undefined when there is no provider and no API. */
export function meterOf(setup: TelemetrySetup): Meter | undefined {
  const provider =
    (setup.meterProvider as MeterProvider | undefined) ?? otelApi()?.metrics?.getMeterProvider();
  return provider?.getMeter(INSTRUMENTATION_NAME);
}

/**
 * `server.address` and `server.port` of a gRPC target (`host:port`, `[v6]:port`, `dns:///host:port`);
 * nothing else of the target (a scheme, a path) is kept.
 */
export function serverAttributes(target: string | undefined): Attributes {
  if (target === undefined) return {};
  if (/^unix/i.test(target)) return {};
  const bare = target.replace(/^(dns|ipv4|ipv6):(\/\/[^/]*\/)?/i, '');
  const match = /^(\[[^\]]+\]|[^:/?#]+)(?::(\d+))?/.exec(bare);
  if (match === null) return {};
  const host = (match[1] ?? '').replace(/^\[|\]$/g, '');
  return match[2] === undefined
    ? { 'server.address': host }
    : { 'server.address': host, 'server.port': Number(match[2]) };
}

/** The RPC semantic-convention attributes of a call to `method`. */
export function rpcAttributes(method: string, server: Attributes): Attributes {
  return { 'rpc.system': 'grpc', 'rpc.service': RPC_SERVICE, 'rpc.method': method, ...server };
}
/** The status number of an error (its gRPC status, else the one its code names, else UNKNOWN). */
export function statusOf(error: AthenaError): number {
  if (typeof error.status === 'number') return error.status;
  const index = (GRPC_STATUS_NAMES as readonly string[]).indexOf(error.code);
  return index > 0 ? index : 2;
}

/** `SpanKind.CLIENT` and `SpanStatusCode.ERROR` of the API, as numbers: the API is loaded lazily. */
export const SPAN_KIND_CLIENT = 2;
export const STATUS_ERROR = 2;
/** The gRPC status a call gets when it is given up before it answered. */
export const GRPC_CANCELLED = 1;
