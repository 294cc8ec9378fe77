/**
 * One browser connection of the gateway: decodes and checks each frame (hostile input), applies the
 * connection's limits, hands admitted images to the hub and sends each outcome back under the
 * browser's id. A bad frame is answered on its own and costs nothing else; closing the socket
 * forgets the connection's unanswered images.
 */
import type { SchedulerLike } from 'rxjs';
import type { Outcome } from '../../model.js';
import type { GatewayHub } from './hub.js';
import { admit, openAccount, settle } from '../../internal/gateway/limits.js';
import {
  decodeImageFrame,
  encodeServerMessage,
  wireText,
  type ServerMessage,
  type WireLimits,
} from '../../internal/gateway/protocol.js';

/** What the gateway needs of a server-side socket (the `ws` package's `WebSocket`). */
export interface GatewaySocket {
  readonly readyState: number;
  send(data: string): void;
  on(event: 'message', listener: (data: unknown, isBinary: boolean) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
}

const OPEN = 1;

/** Serves one connection that was let in; returns once its listeners are in place. */
export function serveConnection(
  socket: GatewaySocket,
  hub: GatewayHub,
  limits: WireLimits,
  scheduler: SchedulerLike,
): void {
  let account = openAccount(limits, scheduler.now());
  const forgets = new Map<string, () => void>();
  let closed = false;
  const send = (message: ServerMessage) => {
    if (!closed && socket.readyState === OPEN) socket.send(encodeServerMessage(message));
  };
  const fail = (id: string, stage: string, code: string, message: string) =>
    send({ v: 1, type: 'outcome', id, ok: false, stage, code, message: wireText(message) });

  socket.on('message', (data, isBinary) => {
    const frame = isBinary ? bytesOf(data) : undefined;
    if (frame === undefined) {
      send({
        v: 1,
        type: 'rejected',
        code: 'INVALID_INPUT',
        message: 'only binary image frames are accepted',
      });
      return;
    }
    const decoded = decodeImageFrame(frame, limits.maxImageBytes);
    if ('problem' in decoded) {
      const { id, code, message } = decoded.problem;
      if (id === undefined) send({ v: 1, type: 'rejected', code, message });
      else fail(id, 'validate', code, message);
      return;
    }
    const { image } = decoded;
    const verdict = admit(limits, account, image.id, image.data.length, scheduler.now());
    if ('refusal' in verdict) {
      fail(image.id, 'validate', verdict.refusal.code, verdict.refusal.message);
      return;
    }
    account = verdict.account;
    const forget = hub.submit(image, (outcome) => {
      account = settle(account, image.id);
      forgets.delete(image.id);
      send(outcomeMessage(image.id, outcome));
    });
    if (account.inFlight.has(image.id)) forgets.set(image.id, forget);
  });
  socket.on('close', () => {
    closed = true;
    for (const forget of forgets.values()) forget();
    forgets.clear();
  });
  send({ v: 1, type: 'hello', limits });
}

function outcomeMessage(id: string, outcome: Outcome): ServerMessage {
  if (outcome.ok) {
    const classifications = outcome.classifications.map(({ label, weight }) => ({ label, weight }));
    return { v: 1, type: 'outcome', id, ok: true, classifications };
  }
  const { stage, error } = outcome;
  return { v: 1, type: 'outcome', id, ok: false, stage, code: error.code, message: wireText(error.message) };
}

/** The bytes of a binary message as `ws` delivers them (a Buffer, an ArrayBuffer or fragments). */
function bytesOf(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (Array.isArray(data) && data.every((part) => part instanceof Uint8Array)) {
    const parts = data as Uint8Array[];
    const whole = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
    let at = 0;
    for (const part of parts) {
      whole.set(part, at);
      at += part.length;
    }
    return whole;
  }
  return undefined;
}
