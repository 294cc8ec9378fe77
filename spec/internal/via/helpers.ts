/**
 * Parts of the classifyVia specs: small prepared items, a configuration, and a scripted gateway
 * behind a fake WebSocket that runs on a given scheduler (virtual time in marble tests).
 */
import type { SchedulerLike } from 'rxjs';
import { HashType, ImageFormat, RequestEncoding } from '../../../src/generated/athena/models.js';
import { retryPolicy } from '../../../src/internal/retry/policy.js';
import { decodeImageFrame, type WireLimits } from '../../../src/internal/gateway/protocol.js';
import type { ViaSocket, WebSocketFactory } from '../../../src/internal/via/shell.js';
import type { ViaConfig } from '../../../src/internal/via/state.js';
import { imageItem, type ImageItem } from '../../../src/model.js';

export const LIMITS: WireLimits = {
  maxInFlight: 2,
  maxImageBytes: 1000,
  maxBytesInFlight: 10_000,
  ratePerSecond: 100,
  burst: 100,
};

/** A prepared, hashed, correlated item whose Brotli bytes are tiny. */
export function item(id: string, extra: Partial<ImageItem> = {}): ImageItem {
  return imageItem({
    ref: `${id}.jpg`,
    data: Uint8Array.of(1, 2, 3),
    format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR,
    encoding: RequestEncoding.REQUEST_ENCODING_BROTLI,
    hashes: [
      { type: HashType.HASH_TYPE_MD5, value: 'a'.repeat(32) },
      { type: HashType.HASH_TYPE_SHA1, value: 'b'.repeat(40) },
    ],
    correlationId: id,
    ...extra,
  });
}

export function config(extra: Partial<ViaConfig> = {}): ViaConfig {
  return {
    where: 'ws://127.0.0.1/athena',
    maxInFlight: 16,
    itemTimeoutMs: 1000,
    connectTimeoutMs: 100,
    reconnect: retryPolicy({ maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 20, budgetMs: 10_000 }),
    random: () => 0.5,
    ...extra,
  };
}

export interface Script {
  /** Frames of time from the socket's creation to the gateway's hello. */
  readonly helloAfter: number;
  /** Frames of time from an image's arrival to its outcome. */
  readonly answerAfter: number;
  /** Absolute times at which the gateway drops the socket open then. */
  readonly dropAt?: readonly number[];
  /** Close code the gateway answers with instead of hello. */
  readonly refuse?: number;
}

/** A fake gateway: every socket the factory opens follows the script on `scheduler`. */
export function scriptedGateway(scheduler: SchedulerLike, script: Script) {
  const log: string[] = [];
  const sockets: ViaSocket[] = [];
  const factory: WebSocketFactory = () => {
    const link = sockets.length + 1;
    const socket: ViaSocket & { readyState: number } = {
      binaryType: 'blob',
      readyState: 0,
      onmessage: null,
      onclose: null,
      onerror: null,
      send(data) {
        const decoded = decodeImageFrame(data, LIMITS.maxImageBytes);
        if (!('image' in decoded)) throw new Error('the client sent a bad frame');
        const { id } = decoded.image;
        log.push(`${link}>${id}`);
        scheduler.schedule(() => {
          if (socket.readyState !== 1) return;
          const classifications = [{ label: `L-${id}`, weight: 1 }];
          socket.onmessage?.({
            data: JSON.stringify({ v: 1, type: 'outcome', id, ok: true, classifications }),
          });
        }, script.answerAfter);
      },
      close() {
        log.push(`${link}:close`);
        socket.readyState = 3;
      },
    };
    const end = (code: number) => {
      if (socket.readyState === 3) return;
      socket.readyState = 3;
      socket.onclose?.({ code });
    };
    scheduler.schedule(() => {
      if (socket.readyState !== 0) return;
      if (script.refuse !== undefined) return end(script.refuse);
      socket.readyState = 1;
      socket.onmessage?.({ data: JSON.stringify({ v: 1, type: 'hello', limits: LIMITS }) });
    }, script.helloAfter);
    for (const at of script.dropAt ?? []) {
      scheduler.schedule(
        () => {
          if (socket.readyState === 1) {
            log.push(`${link}:drop`);
            end(1006);
          }
        },
        Math.max(0, at - scheduler.now()),
      );
    }
    sockets.push(socket);
    return socket;
  };
  return { factory, log, sockets };
}
