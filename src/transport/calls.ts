/**
 * grpc-js calls as cold Observables: the unary call and the bidirectional stream with flow control.
 * Both register with the client (`track`) so that `close()` can end them, and cancel on unsubscribe.
 */
import { type ClientDuplexStream, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { Observable, Subscription } from 'rxjs';
import { AthenaError, GRPC_STATUS_NAMES } from '../errors.js';
import { scrubText } from '../internal/secrets/scrub.js';

/** Registers an open call's abort handler with the client; returns the function that removes it. */
export type TrackCall = (abort: (error: AthenaError) => void) => () => void;

/**
 * A failed call as an `AthenaError`: the gRPC status name as code, `status`, and the server's details
 * scrubbed of secrets and cut to about 1 KB. The grpc-js error is not kept as `cause`: its message and
 * metadata carry the server's text as it came.
 */
export function callError(error: unknown, operation: string): AthenaError {
  if (error instanceof AthenaError) return error;
  const grpc = error as Partial<ServiceError>;
  if (error instanceof Error && typeof grpc.code === 'number') {
    const name = GRPC_STATUS_NAMES[grpc.code] ?? 'UNKNOWN';
    const details = scrubText(typeof grpc.details === 'string' ? grpc.details : error.message);
    return new AthenaError(name === 'OK' ? 'UNKNOWN' : name, `${operation} failed: ${name}: ${details}`, {
      status: grpc.code,
      details,
    });
  }
  return AthenaError.from(error);
}

/** Starts a unary call: `start(callback)` must invoke the grpc-js method and return the call. */
export function unaryCall<T>(
  operation: string,
  track: TrackCall,
  start: (callback: (error: ServiceError | null, response?: T) => void) => ClientUnaryCall,
): Observable<T> {
  return new Observable<T>((subscriber) => {
    let finished = false;
    const call = start((error, response) => {
      finished = true;
      untrack();
      if (error) subscriber.error(callError(error, operation));
      else {
        subscriber.next(response as T);
        subscriber.complete();
      }
    });
    const untrack = track((error) => {
      finished = true;
      call.cancel();
      subscriber.error(error);
    });
    return () => {
      untrack();
      if (!finished) call.cancel();
    };
  });
}

/** What {@link bidiCall} reports about its requests. */
export interface BidiHooks<Req> {
  /** The call is open: requests are written to it from now on. */
  opened?(): void;
  /** A request's bytes left grpc-js for the socket. */
  written?(request: Req): void;
}

/**
 * A bidi call as an Observable. On subscribe it subscribes to `requests` at once (so nothing a hot
 * source emits is lost) and queues them until `ready` emits, then opens the call with that value
 * (`hooks.opened`) and writes the queue and what follows, holding writes back while the call's buffer
 * is full (until `drain`); `hooks.written` follows each request's write. Half-closes when `requests`
 * completes; emits every response; completes on the server's OK status and errors with a typed error
 * otherwise. A `requests` or `ready` error cancels and errors.
 */
export function bidiCall<P, Req, Res>(
  operation: string,
  track: TrackCall,
  ready: Observable<P>,
  open: (prepared: P) => ClientDuplexStream<Req, Res>,
  requests: Observable<Req>,
  hooks: BidiHooks<Req> = {},
): Observable<Res> {
  return new Observable<Res>((subscriber) => {
    let call: ClientDuplexStream<Req, Res> | undefined;
    let ended = false;
    let failure: unknown;
    const queue: Req[] = [];
    let blocked = true; // until the call is open
    let inputDone = false;
    const input = new Subscription();
    const untrack = track((error) => stop(error));

    const onData = (response: Res): void => subscriber.next(response);
    const onDrain = (): void => {
      blocked = false;
      flush();
    };
    // A failed status comes as 'error' before 'end'; 'end' follows the last message in both cases.
    const onError = (error: unknown): unknown => (failure ??= error);
    const onEnd = (): void => {
      if (ended) return;
      ended = true;
      untrack();
      input.unsubscribe();
      if (failure !== undefined) subscriber.error(callError(failure, operation));
      else subscriber.complete();
    };
    const stop = (error?: AthenaError): void => {
      if (ended) return;
      ended = true;
      untrack();
      input.unsubscribe();
      queue.length = 0;
      if (call) {
        call.off('data', onData).off('drain', onDrain).off('end', onEnd);
        call.cancel(); // the CANCELLED status that follows still lands in onError, which stays attached
      }
      if (error) subscriber.error(error);
    };
    const send = (target: ClientDuplexStream<Req, Res>, request: Req): boolean =>
      target.write(request, () => {
        if (!ended) hooks.written?.(request);
      });
    const flush = (): void => {
      if (!call) return;
      while (!blocked && queue.length > 0) blocked = !send(call, queue.shift() as Req);
      if (!blocked && inputDone && queue.length === 0) call.end();
    };
    input.add(
      requests.subscribe({
        next: (request) => {
          if (ended) return;
          if (blocked || !call) queue.push(request);
          else blocked = !send(call, request);
        },
        error: (error: unknown) => stop(AthenaError.from(error)),
        complete: () => {
          inputDone = true;
          if (!ended) flush();
        },
      }),
    );
    input.add(
      ready.subscribe({
        next: (prepared) => {
          if (ended || call) return;
          try {
            call = open(prepared);
          } catch (error) {
            stop(callError(error, operation));
            return;
          }
          call.on('data', onData).on('drain', onDrain).on('error', onError).on('end', onEnd);
          blocked = false;
          hooks.opened?.();
          flush();
        },
        error: (error: unknown) => stop(AthenaError.from(error)),
      }),
    );
    return () => stop();
  });
}
