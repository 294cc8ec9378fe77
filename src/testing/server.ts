import { ServerCredentials, status as Status, type ChannelOptions } from '@grpc/grpc-js';
import { assertInteger, assertNumber, assertString } from '../internal/core/validate.js';
import { startTokenIssuer, withIssuerAuth, type TokenIssuer, type TokenIssuerOptions } from './issuer.js';
import { listen, type Listening } from './listener.js';
import { createAthenaService, type AthenaService, type AthenaServiceOptions } from './service.js';
import { createSleeper } from './sleeper.js';

/** PEM key and certificate (chain) for serving TLS. */
export interface AthenaServerTls {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
}

/** Options of {@link startAthenaServer}: the service's behaviour plus where and how to listen. */
export interface AthenaServerOptions extends AthenaServiceOptions {
  /** Interface to bind. Default `127.0.0.1` (loopback only). */
  readonly host?: string;
  /** Port to bind; 0 picks a free one. Default 0. */
  readonly port?: number;
  /** Serve TLS with this key and certificate; default plaintext. */
  readonly tls?: AthenaServerTls;
  /**
   * Run the built-in OAuth 2 issuer beside the server (HTTPS when `tls` is given, on `host`) and
   * accept its tokens, besides any `auth`. See `startTokenIssuer`.
   */
  readonly oauth?: AthenaServerOAuth;
  /**
   * Largest message received or sent, in bytes. Default 64 MiB: a batch of 50 raw 448 x 448 images
   * is about 31 MB.
   */
  readonly maxMessageBytes?: number;
  /** How long `close()` lets calls finish before cancelling them, in ms. Default 250. */
  readonly closeGraceMs?: number;
  /** Extra grpc-js server options (they win over the defaults above). */
  readonly channelOptions?: ChannelOptions;
}

/** The built-in issuer's options in {@link AthenaServerOptions}: it binds the server's `host` and `tls`. */
export type AthenaServerOAuth = Omit<TokenIssuerOptions, 'host' | 'tls'>;

/** How {@link AthenaServer.stop} stops listening. */
export interface AthenaServerStopOptions {
  /**
   * `true` (default): as `tryShutdown` on deploy: new calls are refused (GOAWAY), open Classify
   * streams end with `status`, unary calls get `graceMs` to finish, then the rest is cancelled.
   * `false`: as `forceShutdown`: every connection is closed now; grpc-js clients see their open
   * calls end with `CANCELLED` (`Call cancelled`).
   */
  readonly graceful?: boolean;
  /** How long running calls may finish in a graceful stop, in ms. Default `closeGraceMs`. */
  readonly graceMs?: number;
  /** Status of the Classify streams a graceful stop ends. Default `UNAVAILABLE`, `Server shutting down`. */
  readonly status?: { readonly code: number; readonly details: string };
  /**
   * Forget every deployment (queued outputs and remembered correlation ids) as a fresh process
   * would. Default `false`: deployments and their queued outputs survive, as the real service keeps
   * undelivered outputs across a deploy. Counters and faults always survive.
   */
  readonly dropState?: boolean;
}

/** How {@link AthenaServer.restart} restarts. */
export interface AthenaServerRestartOptions extends AthenaServerStopOptions {
  /** How long the port stays closed between stop and start, in ms. Default 0. */
  readonly downMs?: number;
}

/** A running embedded Athena server. */
export interface AthenaServer extends Omit<AthenaService, 'implementation' | 'dispose'> {
  /** `host:port` to connect to, e.g. `127.0.0.1:50123` (IPv6 hosts in brackets). */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /** Whether the server speaks TLS. */
  readonly tls: boolean;
  /** The built-in OAuth 2 issuer, when `oauth` was given (closed with the server). */
  readonly oauth?: Omit<TokenIssuer, 'close'>;
  /** Whether the port is open now (false between `stop()` and `start()`, and after `close()`). */
  readonly listening: boolean;
  /**
   * Stops listening as a server does on deploy, keeping the service (deployments, faults, counters)
   * for {@link AthenaServer.start}. Resolves when the port is released; a no-op when stopped.
   */
  stop(options?: AthenaServerStopOptions): Promise<void>;
  /** Listens again on the same port with the same state. A no-op when listening; rejects after `close()` or when the port is taken. */
  start(): Promise<void>;
  /** `stop(options)`, `downMs` of closed port, then `start()`. */
  restart(options?: AthenaServerRestartOptions): Promise<void>;
  /**
   * Stops the server: open Classify calls end with `UNAVAILABLE`, calls still running after
   * `closeGraceMs` are cancelled. Resolves when the port is released; calling it again returns the
   * same promise.
   */
  close(): Promise<void>;
}

const MIB = 1024 * 1024;

/**
 * Starts a real grpc-js server implementing the Athena `ClassifierService` (all three RPCs) as
 * PROTOCOL.md documents it, with a deterministic benign classifier, known-hash matching, shared
 * deployment queues, validation, optional token checks and scriptable faults.
 *
 * Behaviour where PROTOCOL.md leaves room, decided here:
 * - Output errors carry `ErrorCode`s: an empty or over-64-character deployment id fails every input
 *   of the request with `DEPLOYMENT_ID_INVALID` (per input, not `global_error`, so each item gets
 *   its own outcome; they come back on the sending stream, which joins no deployment); correlation
 *   ids likewise give `CORRELATION_ID_INVALID`; an empty or unlisted affiliate gives
 *   `AFFILIATE_NOT_PERMITTED` with the documented message. Checks run in that order, then the image.
 * - Image problems (messages start with `Image Classification Error`): wrong sizes (raw length other
 *   than 602,112 bytes, decoded size other than 448 x 448, more than 64 MiB after Brotli) give
 *   `IMAGE_TOO_LARGE`, which clients never retry; unreadable data (format missing, bytes no decoder
 *   takes, corrupt Brotli, unknown encoding, neither data nor hashes) gives `UNSPECIFIED`.
 *   `MODEL_ERROR` is left to injected faults (and unexpected failures).
 * - An input without data but with hashes is a hash lookup: only the KnownCSAM labels come back.
 * - A request whose deployment id differs from the stream's first ends the call with
 *   `INVALID_ARGUMENT`. Empty requests are keepalives: counted, never answered. A correlation id the
 *   deployment already saw is answered again and counted in `duplicateCorrelationIds`.
 * - Inputs of a request are processed concurrently; their outputs go out together, in request
 *   order, in one `ClassifyResponse` to one connected stream of the deployment (round robin across
 *   deliveries), or wait on the deployment for `outputTtlMs` while none is connected.
 * - After the client half-closes, the call ends with OK once its own requests are answered.
 *
 * @example
 * ```ts
 * import { startAthenaServer } from 'athena-rx/testing';
 *
 * const server = await startAthenaServer({ affiliates: ['acme'], faults: { latencyMs: [5, 20] }, seed: 1 });
 * // ... point a client at server.address (plaintext) ...
 * server.setFaults({ resetAfterOutputs: 10 });
 * console.log(server.counters.outputs);
 * await server.close();
 * ```
 * @param options - See {@link AthenaServerOptions}; validated before anything binds.
 * @returns The running server, once it listens.
 */
export async function startAthenaServer(options: AthenaServerOptions = {}): Promise<AthenaServer> {
  const host = assertString('host', options.host ?? '127.0.0.1');
  const requestedPort = assertInteger('port', options.port ?? 0, 0, 65_535);
  const maxMessageBytes = assertInteger('maxMessageBytes', options.maxMessageBytes ?? 64 * MIB, 1);
  const closeGraceMs = assertNumber('closeGraceMs', options.closeGraceMs ?? 250, 0);
  const credentials = serverCredentials(options.tls);
  const issuer =
    options.oauth === undefined
      ? undefined
      : await startTokenIssuer({ ...options.oauth, host, ...(options.tls && { tls: options.tls }) });
  let service: AthenaService;
  try {
    service = createAthenaService(
      issuer === undefined ? options : { ...options, auth: withIssuerAuth(options.auth, issuer.verify) },
    );
  } catch (error) {
    await issuer?.close();
    throw error;
  }
  const bindHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const listener = {
    bindHost,
    credentials,
    serverOptions: {
      'grpc.max_receive_message_length': maxMessageBytes,
      'grpc.max_send_message_length': maxMessageBytes,
      ...options.channelOptions,
    },
    implementation: service.implementation,
    sleep: createSleeper(options.scheduler).sleep,
  };
  let current: Listening | undefined;
  try {
    current = await listen(listener, requestedPort);
  } catch (error) {
    service.dispose();
    await issuer?.close();
    throw error;
  }
  const port = current.port;
  let closed = false;
  // Operations run one after another, so a restart never races a stop or a close.
  let queue: Promise<void> = Promise.resolve();
  const serially = (op: () => Promise<void>): Promise<void> => {
    const next = queue.then(op);
    queue = next.catch(() => undefined);
    return next;
  };
  const stopNow = async (o: AthenaServerStopOptions = {}): Promise<void> => {
    const graceful = o.graceful !== false;
    const graceMs = assertNumber('graceMs', o.graceMs ?? closeGraceMs, 0);
    const listening = current;
    current = undefined;
    if (graceful)
      service.abortStreams(o.status ?? { code: Status.UNAVAILABLE, details: 'Server shutting down' });
    if (o.dropState === true) service.clearDeployments();
    await listening?.shutdown(graceful, graceMs);
  };
  const startNow = async (): Promise<void> => {
    if (closed) throw new Error('the server was closed');
    current ??= await listen(listener, port);
  };
  const stop = (o?: AthenaServerStopOptions): Promise<void> => serially(() => stopNow(o));
  const start = (): Promise<void> => serially(startNow);
  const restart = (o: AthenaServerRestartOptions = {}): Promise<void> => {
    const downMs = assertNumber('downMs', o.downMs ?? 0, 0);
    return serially(async () => {
      await stopNow(o);
      if (downMs > 0) await listener.sleep(downMs);
      await startNow();
    });
  };
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= serially(async () => {
      closed = true;
      service.dispose();
      const listening = current;
      current = undefined;
      await Promise.all([listening?.shutdown(true, closeGraceMs), issuer?.close()]);
    }));

  return {
    address: `${bindHost}:${port}`,
    host,
    port,
    tls: options.tls !== undefined,
    ...(issuer && { oauth: issuer }),
    get listening() {
      return current !== undefined;
    },
    stop,
    start,
    restart,
    get counters() {
      return service.counters;
    },
    get faults() {
      return service.faults;
    },
    seed: service.seed,
    setFaults: (partial) => service.setFaults(partial),
    clearFaults: () => service.clearFaults(),
    resetCounters: () => service.resetCounters(),
    deployments: () => service.deployments(),
    abortStreams: (status) => service.abortStreams(status),
    clearDeployments: () => service.clearDeployments(),
    close,
  };
}

function serverCredentials(tls: AthenaServerTls | undefined): ServerCredentials {
  if (tls === undefined) return ServerCredentials.createInsecure();
  if (typeof tls !== 'object' || tls === null) throw new TypeError('tls must be { key, cert }');
  const pem = (name: string, v: unknown): Buffer => {
    if (typeof v === 'string' && v.length > 0) return Buffer.from(v);
    if (Buffer.isBuffer(v) && v.length > 0) return v;
    throw new TypeError(`tls.${name} must be a non-empty PEM string or Buffer`);
  };
  return ServerCredentials.createSsl(
    null,
    [{ private_key: pem('key', tls.key), cert_chain: pem('cert', tls.cert) }],
    false,
  );
}
