/**
 * The thin shell around the classify core: it feeds {@link step} the events of one subscription (input,
 * the calls' requests and responses, one timer on the injected scheduler) and runs the effects it asks
 * for. Events raised while effects run (an emitted outcome releasing a lease, so the source sends the
 * next image) are queued and handled after, never nested.
 */
import { serialDispatch } from '../core/serial-dispatch.js';
import { Observable, Subscription, type Subscriber } from 'rxjs';
import { AthenaError } from '../../errors.js';
import type { ClassifyRequest } from '../../generated/athena/models.js';
import type { Outcome } from '../../model.js';
import type { ClassifyStreamClient } from '../../transport/contracts.js';
import { streamTelemetry } from '../../telemetry/stream.js';
import type { ClassifyConfig } from './options.js';
import { classifyRequest } from './request.js';
import { initialState, type ClassifyInput, type Effect, type SessionEvent } from './state.js';
import { step } from './step.js';

/** An event as the shell raises it; `dispatch` stamps it with the scheduler's time. */
type Incoming = SessionEvent extends infer E ? (E extends SessionEvent ? Omit<E, 'now'> : never) : never;

/** One open call: its subscription and the subscriber of its request stream, once the client took it. */
interface Call {
  readonly subscription: Subscription;
  writer: Subscriber<ClassifyRequest> | undefined;
  readonly sent: Map<ClassifyRequest, number>;
}

export function runSession(
  client: ClassifyStreamClient,
  config: ClassifyConfig,
  subscriber: Subscriber<Outcome>,
) {
  const { scheduler } = config;
  let state = initialState(config);
  const calls = new Map<number, Call>();
  let alarm: Subscription | undefined;
  let closed = false;
  // Undefined when nothing would record it: every report below is then one branch.
  const telemetry = streamTelemetry(
    config.telemetry,
    client.address,
    config.deploymentId,
    config.traceImages,
  );

  const handle = serialDispatch<SessionEvent>(
    (event) => {
      const result = step(state, event);
      state = result.state;
      for (const effect of result.effects) run(effect);
    },
    () => closed,
    () => telemetry?.settle(),
  );
  function dispatch(event: Incoming): void {
    handle({ ...event, now: scheduler.now() } as SessionEvent);
  }

  function run(effect: Effect): void {
    if (closed) return;
    switch (effect.type) {
      case 'open':
        return open(effect.stream);
      case 'write': {
        const call = calls.get(effect.stream);
        if (call?.writer === undefined) return;
        const request = classifyRequest(config.deploymentId, [...effect.inputs]);
        if (effect.request >= 0) call.sent.set(request, effect.request);
        call.writer.next(request);
        if (effect.inputs.length > 0)
          telemetry?.written(
            effect.stream,
            effect.inputs.map((input) => input.correlationId),
          );
        if (effect.request >= 0 && client.acknowledgesWrites !== true) {
          call.sent.delete(request);
          dispatch({ type: 'written', stream: effect.stream, request: effect.request });
        }
        return;
      }
      case 'half-close':
        return calls.get(effect.stream)?.writer?.complete();
      case 'cancel':
        return cancel(effect.stream);
      case 'emit':
        telemetry?.outcome(effect.outcome);
        subscriber.next(effect.outcome);
        effect.outcome.lease?.release();
        return;
      case 'event':
        telemetry?.event(effect.event);
        return config.emit(effect.event);
      case 'foreign':
        return config.foreign(effect.output);
      case 'wake':
        alarm?.unsubscribe();
        alarm =
          effect.at === undefined
            ? undefined
            : scheduler.schedule(() => dispatch({ type: 'tick' }), Math.max(0, effect.at - scheduler.now()));
        return;
      case 'complete':
      case 'error':
        teardown();
        if (effect.type === 'complete') subscriber.complete();
        else subscriber.error(effect.error);
        return;
    }
  }

  function open(stream: number): void {
    const sent = new Map<ClassifyRequest, number>();
    const requests = new Observable<ClassifyRequest>((writer) => {
      const call = calls.get(stream);
      if (call === undefined) return writer.complete();
      call.writer = writer;
      if (client.acknowledgesWrites !== true) dispatch({ type: 'opened', stream });
      return () => {
        if (call.writer === writer) call.writer = undefined;
      };
    });
    const hooks = {
      opened: () => {
        if (calls.get(stream)?.writer !== undefined) dispatch({ type: 'opened', stream });
      },
      written: (request: ClassifyRequest) => {
        const id = sent.get(request);
        if (id === undefined) return;
        sent.delete(request);
        dispatch({ type: 'written', stream, request: id });
      },
    };
    // The call is registered before the client is asked, so that what it does at once finds it.
    const call: Call = { subscription: new Subscription(), writer: undefined, sent };
    calls.set(stream, call);
    telemetry?.opened(stream);
    const ended = (error: AthenaError | undefined) => {
      if (calls.get(stream) !== call) return;
      calls.delete(stream);
      telemetry?.ended(stream, error);
      dispatch({ type: 'ended', stream, error });
    };
    call.subscription.add(
      client.classifyStream(config.deploymentId, requests, hooks).subscribe({
        next: (response) => dispatch({ type: 'response', stream, response }),
        error: (error: unknown) => ended(AthenaError.from(error, 'UNKNOWN')),
        complete: () => ended(undefined),
      }),
    );
  }

  function cancel(stream: number): void {
    const call = calls.get(stream);
    if (call === undefined) return;
    calls.delete(stream);
    telemetry?.cancelled(stream);
    call.writer = undefined;
    call.subscription.unsubscribe();
  }

  function teardown(): void {
    closed = true;
    alarm?.unsubscribe();
    alarm = undefined;
    for (const stream of [...calls.keys()]) cancel(stream);
    telemetry?.close();
  }

  return {
    /** Subscribed: the first call opens before any input. */
    start: () => dispatch({ type: 'tick' }),
    input: (value: ClassifyInput) => {
      if (!closed) telemetry?.input(value);
      dispatch({ type: 'input', value });
    },
    end: (error?: { error: unknown }) =>
      dispatch(error ? { type: 'input-end', error } : { type: 'input-end' }),
    /** Unsubscribed: cancel every call and the timer; nothing more is written or emitted. */
    close: teardown,
    get closed(): boolean {
      return closed;
    },
  };
}
