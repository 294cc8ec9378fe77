/**
 * A fake `ClassifyStreamClient` for marble and property tests: every call records what was written to
 * it (with the scheduler's time), its half-close and its cancellation, and answers with whatever
 * Observable the test builds for it.
 */
import { Observable, Subject, map, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { AthenaError } from '../../src/errors.js';
import {
  ErrorCode,
  ImageFormat,
  RequestEncoding,
  type ClassificationOutput,
  type ClassifyRequest,
  type ClassifyResponse,
} from '../../src/generated/athena/models.js';
import {
  imageItem,
  type ImageBatch,
  type ImageItem,
  type ItemFailure,
  type Outcome,
} from '../../src/model.js';
import type { ClassifyEvent, ClassifyStreamClient } from '../../src/transport/contracts.js';

export interface CallLog {
  readonly deploymentId: string;
  readonly openedAt: number;
  /** Each request written: its time and correlation ids (none for a keepalive). */
  readonly writes: { at: number; ids: string[] }[];
  halfClosedAt: number | undefined;
  /** Set when the caller unsubscribed before the response stream ended. */
  cancelledAt: number | undefined;
  /** Every request as written. */
  readonly requests: Subject<ClassifyRequest>;
}

export type Responder = (call: CallLog, index: number) => Observable<ClassifyResponse>;

export function fakeClient(scheduler: SchedulerLike, responder: Responder) {
  const calls: CallLog[] = [];
  const client: ClassifyStreamClient = {
    classifyStream(deploymentId, requests$) {
      return new Observable<ClassifyResponse>((subscriber) => {
        const call: CallLog = {
          deploymentId,
          openedAt: scheduler.now(),
          writes: [],
          halfClosedAt: undefined,
          cancelledAt: undefined,
          requests: new Subject(),
        };
        calls.push(call);
        let ended = false;
        const responses = responder(call, calls.length - 1).subscribe({
          next: (r) => subscriber.next(r),
          error: (e: unknown) => {
            ended = true;
            subscriber.error(e);
          },
          complete: () => {
            ended = true;
            subscriber.complete();
          },
        });
        const writes = requests$.subscribe({
          next: (request) => {
            call.writes.push({ at: scheduler.now(), ids: request.inputs.map((i) => i.correlationId) });
            call.requests.next(request);
          },
          complete: () => {
            call.halfClosedAt = scheduler.now();
            call.requests.complete();
          },
        });
        return () => {
          if (!ended) call.cancelledAt = scheduler.now();
          writes.unsubscribe();
          responses.unsubscribe();
        };
      });
    },
  };
  return { client, calls };
}

/** A lease that counts its releases. */
export function countingLease() {
  const lease = {
    released: 0,
    release() {
      lease.released += 1;
    },
  };
  return lease;
}

export function item(id: string | undefined, extra: Partial<ImageItem> = {}): ImageItem {
  return imageItem({
    ref: `img-${id ?? 'x'}`,
    data: new Uint8Array([1, 2, 3]),
    format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR,
    encoding: RequestEncoding.REQUEST_ENCODING_UNCOMPRESSED,
    ...(id === undefined ? {} : { correlationId: id }),
    ...extra,
  });
}

export function batchOf(...items: ImageItem[]): ImageBatch {
  return { kind: 'batch', items, bytes: items.reduce((n, i) => n + i.data.length, 0) };
}

export function upstreamFailure(ref: string): ItemFailure {
  return { kind: 'failure', ok: false, ref, stage: 'read', error: new AthenaError('READ_FAILED', 'gone') };
}

export function ok(id: string, weight = 0.5): ClassificationOutput {
  return {
    correlationId: id,
    classifications: [{ label: 'UnknownCSAM-Ducks', weight }],
    error: undefined,
  };
}

export function bad(id: string, code = ErrorCode.ERROR_CODE_MODEL_ERROR): ClassificationOutput {
  return { correlationId: id, classifications: [], error: { code, message: 'model failed', details: 'd' } };
}

export function resp(...outputs: ClassificationOutput[]): ClassifyResponse {
  return { globalError: undefined, outputs };
}

export function globalError(code = ErrorCode.ERROR_CODE_MODEL_ERROR): ClassifyResponse {
  return { globalError: { code, message: 'batch failed', details: '' }, outputs: [] };
}

export function status(code: string, status: number): AthenaError {
  return new AthenaError(code as 'UNAVAILABLE', `${code} from the fake`, { status });
}

/** Outcomes as short strings: `id` when classified, `id:stage:CODE` when failed. */
export function show(): OperatorFunction<Outcome, string> {
  return map((o) => (o.ok ? `${o.correlationId}` : `${o.correlationId ?? o.ref}:${o.stage}:${o.error.code}`));
}

/** Events as short strings. */
export function eventLog(scheduler: SchedulerLike) {
  const log: string[] = [];
  const observer = {
    next(event: ClassifyEvent) {
      const at = scheduler.now();
      switch (event.type) {
        case 'sent':
          return log.push(`${at} sent ${event.items}/${event.bytes}`);
        case 'resent':
          return log.push(`${at} resent ${event.items}`);
        case 'reconnect':
          return log.push(
            `${at} reconnect ${event.attempt} +${event.delayMs} ${(event.error as AthenaError).code}`,
          );
        case 'foreign':
        case 'duplicate':
          return log.push(`${at} ${event.type} ${event.correlationId}`);
        case 'keepalive':
          return log.push(`${at} keepalive`);
        case 'global-error':
          return log.push(`${at} global-error ${event.items}`);
        case 'retry':
          return log.push(`${at} retry ${event.correlationId} #${event.attempt}`);
      }
    },
  };
  return { log, observer };
}

/**
 * A responder that answers every written input `delay` after it was written, with the outputs
 * `fate(id, call)` gives (default: one successful output; none drops it; two duplicate it), and ends
 * the call once the caller half-closed and every answer went out.
 */
export function echo(
  scheduler: SchedulerLike,
  delay: number,
  fate: (id: string, call: number) => ClassificationOutput[] = (id) => [ok(id)],
): Responder {
  return (call, index) =>
    new Observable<ClassifyResponse>((subscriber) => {
      let outstanding = 0;
      let halfClosed = false;
      const timers = call.requests.subscribe({
        next: (request) => {
          if (request.inputs.length === 0) return;
          outstanding += 1;
          timers.add(
            scheduler.schedule(() => {
              outstanding -= 1;
              const outputs = request.inputs.flatMap((input) => fate(input.correlationId, index));
              if (outputs.length > 0) subscriber.next(resp(...outputs));
              if (halfClosed && outstanding === 0) subscriber.complete();
            }, delay),
          );
        },
        complete: () => {
          halfClosed = true;
          if (outstanding === 0) subscriber.complete();
        },
      });
      return timers;
    });
}

/** Responses as given, and the end of the call when the caller half-closes (as the embedded server does). */
export function untilHalfClose(responses: Observable<ClassifyResponse>): Responder {
  return (call) =>
    new Observable<ClassifyResponse>((subscriber) => {
      const subscription = responses.subscribe(subscriber);
      subscription.add(call.requests.subscribe({ complete: () => subscriber.complete() }));
      return subscription;
    });
}
