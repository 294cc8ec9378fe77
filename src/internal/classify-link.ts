import { Observable, type SchedulerLike, type Subscriber, type Subscription } from 'rxjs';
import { AthenaError } from '../errors.js';
import type { ClassifyRequest, ClassifyResponse } from '../generated/athena/models.js';
import type { ClassifyStreamClient } from '../transport/contracts.js';
import { classifyRequest } from './classify-request.js';

export interface LinkOptions {
  readonly client: ClassifyStreamClient;
  readonly deploymentId: string;
  readonly scheduler: SchedulerLike;
  /** Idle time before an empty keepalive request; 0 for none. */
  readonly keepaliveMs: number;
}

export interface LinkHandlers {
  /** A response arrived. */
  response(response: ClassifyResponse): void;
  /** The call ended: with the error that broke it, or undefined when the server ended it. */
  end(error: AthenaError | undefined): void;
  /** The client took the request stream after `start` returned: requests may be written now. */
  writable(): void;
  /** A keepalive request was written. */
  keepalive(): void;
}

/** One `Classify` call: the requests written to it, its responses, and its keepalive. */
export interface Link {
  /** Opens the call. Handlers may run before this returns. */
  start(): void;
  /** True while requests can be written (the client took the request stream; no half-close, no end). */
  readonly writable: boolean;
  write(request: ClassifyRequest): void;
  /** No more requests: completes the request stream; the call stays open for responses. */
  halfClose(): void;
  /** Cancels the call (if still open) and every timer. */
  close(): void;
}

/**
 * A `Classify` call over the client contract. Requests go through an Observable the client subscribes
 * to, so nothing is written before the client is ready for it; while the call is open and nothing was
 * written for `keepaliveMs`, an empty request keeps it alive. After the half-close or the end, no
 * keepalive is written.
 */
export function createLink(options: LinkOptions, handlers: LinkHandlers): Link {
  const { scheduler, keepaliveMs } = options;
  let writer: Subscriber<ClassifyRequest> | undefined;
  let call: Subscription | undefined;
  let started = false;
  let done = false;
  let halfClosed = false;
  let lastWrite = scheduler.now();
  let keepalive: Subscription | undefined;

  const arm = (delay: number): void => {
    keepalive?.unsubscribe();
    keepalive = keepaliveMs > 0 && !done && !halfClosed ? scheduler.schedule(tick, delay) : undefined;
  };
  function tick(): void {
    keepalive = undefined;
    if (writer === undefined || halfClosed || done) return;
    const idle = scheduler.now() - lastWrite;
    if (idle < keepaliveMs) return arm(keepaliveMs - idle);
    link.write(classifyRequest(options.deploymentId));
    handlers.keepalive();
    if (keepalive === undefined) arm(keepaliveMs);
  }
  const stop = (): void => {
    done = true;
    writer = undefined;
    keepalive?.unsubscribe();
    keepalive = undefined;
  };

  const requests = new Observable<ClassifyRequest>((subscriber) => {
    if (done || halfClosed) {
      subscriber.complete();
      return undefined;
    }
    writer = subscriber;
    lastWrite = scheduler.now();
    arm(keepaliveMs);
    if (started) handlers.writable();
    return () => {
      if (writer === subscriber) writer = undefined;
    };
  });

  const link: Link = {
    start() {
      call = options.client.classifyStream(options.deploymentId, requests).subscribe({
        next: (response) => {
          if (!done) handlers.response(response);
        },
        error: (error: unknown) => {
          if (done) return;
          stop();
          handlers.end(AthenaError.from(error, 'UNKNOWN'));
        },
        complete: () => {
          if (done) return;
          stop();
          handlers.end(undefined);
        },
      });
      started = true;
      if (done) call.unsubscribe();
    },
    get writable() {
      return writer !== undefined && !halfClosed && !done;
    },
    write(request) {
      if (writer === undefined || halfClosed || done) return;
      lastWrite = scheduler.now();
      writer.next(request);
    },
    halfClose() {
      if (halfClosed) return;
      halfClosed = true;
      keepalive?.unsubscribe();
      keepalive = undefined;
      writer?.complete();
    },
    close() {
      stop();
      call?.unsubscribe();
    },
  };
  return link;
}
