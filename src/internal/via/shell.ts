/**
 * The thin shell around the `classifyVia` core: it feeds {@link stepVia} the events of one
 * subscription (input, the sockets' messages and closes, one timer on the injected scheduler) and
 * runs the effects it asks for. Events raised while effects run are queued, never nested.
 */
import { serialDispatch } from '../core/serial-dispatch.js';
import type { SchedulerLike, Subscriber, Subscription } from 'rxjs';
import type { Outcome } from '../../model.js';
import { decodeServerMessage, encodeImageFrame } from '../gateway/protocol.js';
import { initialViaState, type ViaConfig, type ViaEffect, type ViaEvent, type ViaInput } from './state.js';
import { stepVia } from './step.js';
import { NO_SOCKET } from './close-codes.js';

/** What `classifyVia` needs of a WebSocket: the browser's `WebSocket`, or the `ws` package's. */
export interface ViaSocket {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  onclose: ((event: { readonly code: number }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** Opens a socket to the gateway URL. */
export type WebSocketFactory = (url: string) => ViaSocket;

export interface ViaRuntime extends ViaConfig {
  readonly url: string;
  readonly webSocket: WebSocketFactory;
  readonly scheduler: SchedulerLike;
}

type Incoming = ViaEvent extends infer E ? (E extends ViaEvent ? Omit<E, 'now'> : never) : never;

const OPEN = 1;

export function runVia(runtime: ViaRuntime, subscriber: Subscriber<Outcome>) {
  const { scheduler } = runtime;
  let state = initialViaState(runtime);
  const sockets = new Map<number, ViaSocket>();
  let alarm: Subscription | undefined;
  let closed = false;

  const handle = serialDispatch<ViaEvent>(
    (event) => {
      const result = stepVia(state, event);
      state = result.state;
      for (const effect of result.effects) run(effect);
    },
    () => closed,
  );
  function dispatch(event: Incoming): void {
    handle({ ...event, now: scheduler.now() } as ViaEvent);
  }

  function run(effect: ViaEffect): void {
    if (closed) return;
    switch (effect.type) {
      case 'connect':
        return connect(effect.link);
      case 'send': {
        const socket = sockets.get(effect.link);
        if (socket?.readyState === OPEN) socket.send(encodeImageFrame(effect.image));
        return;
      }
      case 'disconnect':
        return disconnect(effect.link);
      case 'emit':
        subscriber.next(effect.outcome);
        effect.outcome.lease?.release();
        return;
      case 'complete':
        shutdown();
        return subscriber.complete();
      case 'error':
        shutdown();
        return subscriber.error(effect.error);
      case 'wake':
        alarm?.unsubscribe();
        alarm =
          effect.at === undefined
            ? undefined
            : scheduler.schedule(() => dispatch({ type: 'tick' }), Math.max(0, effect.at - scheduler.now()));
        return;
    }
  }

  function connect(link: number): void {
    let socket: ViaSocket;
    try {
      socket = runtime.webSocket(runtime.url);
      socket.binaryType = 'arraybuffer';
    } catch {
      // No socket can be opened here (no WebSocket, a refused scheme): not worth retrying.
      scheduler.schedule(() => dispatch({ type: 'closed', link, code: NO_SOCKET }));
      return;
    }
    sockets.set(link, socket);
    socket.onmessage = (event) => {
      const message = typeof event.data === 'string' ? decodeServerMessage(event.data) : undefined;
      if (message !== undefined) dispatch({ type: 'message', link, message });
    };
    socket.onclose = (event) => {
      sockets.delete(link);
      dispatch({ type: 'closed', link, code: event.code });
    };
    socket.onerror = () => undefined;
  }

  function disconnect(link: number): void {
    const socket = sockets.get(link);
    sockets.delete(link);
    if (socket === undefined) return;
    socket.onmessage = null;
    socket.onclose = null;
    socket.close(1000, 'done');
  }

  function shutdown(): void {
    alarm?.unsubscribe();
    alarm = undefined;
    for (const link of [...sockets.keys()]) disconnect(link);
  }

  return {
    input: (value: ViaInput) => dispatch({ type: 'input', value }),
    end: (error?: { error: unknown }) =>
      dispatch(error ? { type: 'input-end', error } : { type: 'input-end' }),
    /** Unsubscribed: closes every socket and timer; nothing more is emitted. */
    close(): void {
      if (closed) return;
      shutdown();
      closed = true;
    },
  };
}
