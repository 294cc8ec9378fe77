/**
 * The grpc-js channel under `AthenaClient`: default options, TLS or plaintext credentials, the
 * loopback test behind the insecure-transport rule, and the connect gate every call passes.
 */
import {
  type Client,
  type ChannelOptions,
  ChannelCredentials,
  connectivityState,
  status,
} from '@grpc/grpc-js';
import { Observable } from 'rxjs';
import { AthenaError } from '../errors.js';

/** The public Athena service. */
export const DEFAULT_ADDRESS = 'api.athena-risk-intelligence.com:443';

/** 64 MiB: a batch of 50 raw 448x448 BGR images (about 30 MB) with room to spare. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * The channel options `AthenaClient` starts from; `channelOptions` given by the caller override them
 * key by key. HTTP/2 keepalive pings every 30 s (also between calls), answered within 10 s, keep NATs
 * and proxies from dropping long idle streams; a server with a strict ping policy may answer
 * `too_many_pings`, in which case raise `grpc.keepalive_time_ms` or turn
 * `grpc.keepalive_permit_without_calls` off. After a lost connection the channel tries again at most
 * 5 s apart (calls made while it waits fail `UNAVAILABLE` at once), so a restarted service is found
 * again within the delays `classify` reconnects with.
 */
export const DEFAULT_CHANNEL_OPTIONS: Readonly<ChannelOptions> = Object.freeze({
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.initial_reconnect_backoff_ms': 1_000,
  'grpc.max_reconnect_backoff_ms': 5_000,
});

/**
 * The host part of a gRPC target: `host:port`, `[v6]:port`, `dns:///host:port`, `ipv4:a.b.c.d:port`,
 * `ipv6:[v6]:port`. `undefined` for `unix:` targets (a local socket, never on the network).
 */
export function targetHost(address: string): string | undefined {
  if (/^unix(-abstract)?:/i.test(address)) return undefined;
  let rest = address.replace(/^dns:(\/\/[^/]*)?\/?/i, '').replace(/^ipv[46]:/i, '');
  rest = rest.split(',')[0] ?? rest;
  if (rest.startsWith('[')) return rest.slice(1, rest.indexOf(']') > 0 ? rest.indexOf(']') : undefined);
  const colons = rest.split(':').length - 1;
  if (colons === 1) return rest.slice(0, rest.indexOf(':'));
  return rest; // a bare host, or a bare IPv6 address
}

/** True when the target never leaves this machine: `localhost`, `127.0.0.0/8`, `::1` or a unix socket. */
export function isLoopbackAddress(address: string): boolean {
  const host = targetHost(address)?.toLowerCase();
  if (host === undefined) return true;
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) ||
    host === '::1' ||
    host === '0:0:0:0:0:0:0:1' ||
    host === '::ffff:127.0.0.1'
  );
}

/** TLS credentials (optionally trusting `rootCerts`), or plaintext when `insecure`. */
export function channelCredentials(insecure: boolean, rootCerts?: Buffer | string): ChannelCredentials {
  if (insecure) return ChannelCredentials.createInsecure();
  const roots = rootCerts === undefined ? null : Buffer.from(rootCerts);
  return ChannelCredentials.createSsl(roots);
}

/**
 * Completes once the channel has either connected or failed its connection attempt, starting a
 * connection if the channel is idle. Calls use grpc-js's default `waitForReady: false`: a call on a
 * channel that failed to connect ends at once with `UNAVAILABLE` and the reason (certificate,
 * refused, ...), while a call on a connecting channel would wait in the queue for as long as the
 * connection attempt takes. This gate bounds that wait: when the channel is still connecting after
 * `timeoutMs`, it errors with `UNAVAILABLE` (details `connect timeout`). Immediate when connected.
 */
export function whenConnected(client: Client, address: string, timeoutMs: number): Observable<void> {
  return new Observable<void>((subscriber) => {
    const channel = client.getChannel();
    let done = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (error?: AthenaError): void => {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      if (error) subscriber.error(error);
      else {
        subscriber.next();
        subscriber.complete();
      }
    };
    const closed = () => new AthenaError('CLOSED', 'the client is closed');
    const check = (): void => {
      if (done) return;
      try {
        const state = channel.getConnectivityState(true);
        if (state === connectivityState.READY || state === connectivityState.TRANSIENT_FAILURE) finish();
        else if (state === connectivityState.SHUTDOWN) finish(closed());
        else channel.watchConnectivityState(state, Infinity, check);
      } catch {
        finish(closed());
      }
    };
    check();
    if (!done) {
      timer = setTimeout(() => {
        finish(
          new AthenaError('UNAVAILABLE', `could not connect to ${address} within ${timeoutMs} ms`, {
            status: status.UNAVAILABLE,
            details: 'connect timeout',
          }),
        );
      }, timeoutMs);
    }
    return () => {
      done = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  });
}

/**
 * Calls `then` once the client's channel is `READY` (at once when it is), watching its state until
 * then; never when it shuts down. Each call of `then` is the caller's to make harmless once moot.
 */
export function whenReady(client: Client, then: () => void): void {
  const channel = client.getChannel();
  const check = (): void => {
    try {
      const state = channel.getConnectivityState(false);
      if (state === connectivityState.READY) then();
      else if (state !== connectivityState.SHUTDOWN) channel.watchConnectivityState(state, Infinity, check);
    } catch {
      // the channel was closed
    }
  };
  check();
}
