import { Server, ServerCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { ClassifierServiceService } from '../generated/athena/athena.js';
import { assertInteger, assertNumber, assertString } from '../internal/validate.js';
import { createAthenaService, type AthenaService, type AthenaServiceOptions } from './service.js';

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
   * Largest message received or sent, in bytes. Default 64 MiB: a batch of 50 raw 448 x 448 images
   * is about 31 MB.
   */
  readonly maxMessageBytes?: number;
  /** How long `close()` lets calls finish before cancelling them, in ms. Default 250. */
  readonly closeGraceMs?: number;
  /** Extra grpc-js server options (they win over the defaults above). */
  readonly channelOptions?: ChannelOptions;
}

/** A running embedded Athena server. */
export interface AthenaServer extends Omit<AthenaService, 'implementation' | 'dispose'> {
  /** `host:port` to connect to, e.g. `127.0.0.1:50123` (IPv6 hosts in brackets). */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /** Whether the server speaks TLS. */
  readonly tls: boolean;
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
  const service = createAthenaService(options);
  const grpcServer = new Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    ...options.channelOptions,
  });
  grpcServer.addService(ClassifierServiceService, service.implementation);
  const bindHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      grpcServer.bindAsync(`${bindHost}:${requestedPort}`, credentials, (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
  } catch (error) {
    service.dispose();
    grpcServer.forceShutdown();
    throw error;
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      service.dispose();
      const force = setTimeout(() => grpcServer.forceShutdown(), closeGraceMs);
      grpcServer.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    }));

  return {
    address: `${bindHost}:${port}`,
    host,
    port,
    tls: options.tls !== undefined,
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
