import { NEVER, Observable, Subject, type Subscriber } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import type { ClassifyRequest, ClassifyResponse } from '../../src/generated/athena/models.js';
import { createLink, type LinkHandlers } from '../../src/internal/classify-link.js';
import type { ClassifyStreamClient } from '../../src/transport/contracts.js';

function recorder() {
  const log: string[] = [];
  const handlers: LinkHandlers = {
    response: () => log.push('response'),
    end: (error) => log.push(`end ${error?.code ?? 'ok'}`),
    writable: () => log.push('writable'),
    keepalive: () => log.push('keepalive'),
  };
  return { log, handlers };
}

describe('createLink', () => {
  it('writes a keepalive after each idle period and none after the half-close', () => {
    const ts = new TestScheduler((a, b) => expect(a).toEqual(b));
    const writes: number[] = [];
    let done = -1;
    const client: ClassifyStreamClient = {
      classifyStream: (_id, requests) =>
        new Observable<ClassifyResponse>(() => {
          const s = requests.subscribe({
            next: () => writes.push(ts.now()),
            complete: () => (done = ts.now()),
          });
          return s;
        }),
    };
    const { handlers } = recorder();
    const link = createLink({ client, deploymentId: 'd', scheduler: ts, keepaliveMs: 10 }, handlers);
    link.start();
    ts.schedule(() => link.write({ deploymentId: 'd', inputs: [] }), 15);
    ts.schedule(() => link.halfClose(), 40);
    ts.flush(); // a keepalive that went on would show up to frame 750
    expect(writes).toEqual([10, 15, 25, 35]);
    expect(done).toBe(40);
  });

  it('becomes writable when the client takes the requests late, and reports the end', () => {
    const ts = new TestScheduler((a, b) => expect(a).toEqual(b));
    let take: (() => void) | undefined;
    const responses = new Subject<ClassifyResponse>();
    const client: ClassifyStreamClient = {
      classifyStream: (_id, requests) =>
        new Observable<ClassifyResponse>((subscriber: Subscriber<ClassifyResponse>) => {
          take = () => void requests.subscribe();
          return responses.subscribe(subscriber);
        }),
    };
    const { log, handlers } = recorder();
    const link = createLink({ client, deploymentId: 'd', scheduler: ts, keepaliveMs: 0 }, handlers);
    link.start();
    expect(link.writable).toBe(false);
    take?.();
    expect(link.writable).toBe(true);
    responses.next({ globalError: undefined, outputs: [] });
    responses.error(new AthenaError('INTERNAL', 'reset', { status: 13 }));
    expect(log).toEqual(['writable', 'response', 'end INTERNAL']);
    expect(link.writable).toBe(false);
  });

  it('cancels the call on close and reports nothing after', () => {
    const ts = new TestScheduler((a, b) => expect(a).toEqual(b));
    let cancelled = false;
    const requests: ClassifyRequest[] = [];
    const client: ClassifyStreamClient = {
      classifyStream: (_id, req) =>
        new Observable<ClassifyResponse>(() => {
          const s = req.subscribe((r) => requests.push(r));
          const inner = NEVER.subscribe();
          return () => {
            cancelled = true;
            s.unsubscribe();
            inner.unsubscribe();
          };
        }),
    };
    const { log, handlers } = recorder();
    const link = createLink({ client, deploymentId: 'd', scheduler: ts, keepaliveMs: 5 }, handlers);
    link.start();
    link.close();
    link.write({ deploymentId: 'd', inputs: [] });
    expect(cancelled).toBe(true);
    expect(requests).toEqual([]);
    expect(log).toEqual([]);
    expect(ts.actions).toEqual([]);
  });
});
