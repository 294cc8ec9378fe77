/**
 * Telemetry of `AthenaClient`'s unary calls: a span per `ClassifySingle` or `ListDeployments` call
 * (RPC attributes, final gRPC status code), the duration of each wire attempt, of the wait for a
 * token, and of the whole `classifySingle`. The providers are looked up on each subscription, so a
 * global provider registered after the client was created is used.
 */
import { defer, finalize, tap, type Observable } from 'rxjs';
import type { AthenaError } from '../errors.js';
import { otelApi } from './api.js';
import { instrumentsOf } from './instruments.js';
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

/** Wrappers that record what an Observable of a call does; each returns its input when nothing records. */
export interface UnaryTelemetry {
  /** A whole call, retries and waits included: its span, and for `ClassifySingle` its duration. */
  call<T>(method: string, call$: Observable<T>, payloadBytes?: number): Observable<T>;
  /** One attempt on the wire: `athena.client.rpc.duration`. */
  rpc<T>(method: string, attempt$: Observable<T>): Observable<T>;
  /** The wait for the token a call will carry: `athena.client.auth.duration`. */
  auth<T>(token$: Observable<T>): Observable<T>;
}

/** How an Observable of one answer ended: OK once it answered, else its error's status, else CANCELLED. */
function watch<T>(
  source: Observable<T>,
  done: (code: number, failure: string | undefined) => void,
): Observable<T> {
  let code = GRPC_CANCELLED;
  let failure: string | undefined;
  return source.pipe(
    tap({
      next: () => (code = 0),
      error: (error: AthenaError) => {
        code = statusOf(error);
        failure = error.code ?? 'UNKNOWN';
      },
    }),
    finalize(() => done(code, failure)),
  );
}

export function unaryTelemetry(setup: TelemetrySetup, target: string): UnaryTelemetry {
  const server = serverAttributes(target);
  return {
    call(method, call$, payloadBytes) {
      return defer(() => {
        const tracer = tracerOf(setup);
        const meter = meterOf(setup);
        if (tracer === undefined && meter === undefined) return call$;
        const metrics = meter && instrumentsOf(meter);
        const attributes = rpcAttributes(method, server);
        const span = tracer?.startSpan(
          `${RPC_SERVICE}/${method}`,
          { kind: SPAN_KIND_CLIENT, attributes },
          otelApi()?.context.active(),
        );
        if (payloadBytes !== undefined) metrics?.payloadSize.record(payloadBytes, attributes);
        const startedAt = Date.now();
        return watch(call$, (code, failure) => {
          const at = Date.now();
          if (method === 'ClassifySingle') {
            metrics?.classifySingleDuration.record(at - startedAt, {
              ...attributes,
              'rpc.grpc.status_code': code,
            });
          }
          if (span === undefined) return;
          span.setAttribute('rpc.grpc.status_code', code);
          if (failure !== undefined) span.setStatus({ code: STATUS_ERROR, message: failure });
          span.end(at);
        });
      });
    },
    rpc(method, attempt$) {
      return defer(() => {
        const meter = meterOf(setup);
        if (meter === undefined) return attempt$;
        const histogram = instrumentsOf(meter).rpcDuration;
        const startedAt = Date.now();
        return watch(attempt$, (code) =>
          histogram.record(Date.now() - startedAt, {
            ...rpcAttributes(method, server),
            'rpc.grpc.status_code': code,
          }),
        );
      });
    },
    auth(token$) {
      return defer(() => {
        const meter = meterOf(setup);
        if (meter === undefined) return token$;
        const histogram = instrumentsOf(meter).authDuration;
        const startedAt = Date.now();
        let recorded = false;
        return token$.pipe(
          tap(() => {
            if (recorded) return;
            recorded = true;
            histogram.record(Date.now() - startedAt, server);
          }),
        );
      });
    },
  };
}
