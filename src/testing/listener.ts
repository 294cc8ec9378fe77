/**
 * The network side of the embedded server: a grpc-js `Server` per listening period, bound on
 * demand and shut down gracefully (stop accepting, let calls finish, then cancel what is left) or
 * by force, so one server can stop and listen again on the same port as a deployed one restarts.
 */
import {
  Server,
  type ChannelOptions,
  type ServerCredentials,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { ClassifierServiceService, type ClassifierServiceServer } from '../generated/athena/athena.js';

/** What a listener serves and how. */
export interface ListenerOptions {
  /** Host to bind, IPv6 in brackets. */
  readonly bindHost: string;
  readonly credentials: ServerCredentials;
  readonly serverOptions: ChannelOptions;
  readonly implementation: ClassifierServiceServer;
  /** Resolves after `ms` (the grace period of a graceful shutdown). */
  readonly sleep: (ms: number) => Promise<void>;
}

/** One listening period: a bound grpc-js server. */
export interface Listening {
  readonly port: number;
  /**
   * Graceful: refuses new calls (GOAWAY), lets running calls finish for `graceMs`, then cancels
   * the rest. Forced: cancels every call and closes every connection now. Resolves once the port is
   * released.
   */
  shutdown(graceful: boolean, graceMs: number): Promise<void>;
}

/** Binds a new grpc-js server on `port` (0: any free port). Rejects when the port cannot be bound. */
export async function listen(options: ListenerOptions, port: number): Promise<Listening> {
  const server = new Server(options.serverOptions);
  server.addService(
    ClassifierServiceService,
    options.implementation as unknown as UntypedServiceImplementation,
  );
  let bound: number;
  try {
    bound = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${options.bindHost}:${port}`, options.credentials, (error, p) =>
        error ? reject(error) : resolve(p),
      ),
    );
  } catch (error) {
    server.forceShutdown();
    throw error;
  }
  return {
    port: bound,
    shutdown: (graceful, graceMs) =>
      new Promise<void>((resolve) => {
        if (!graceful) {
          server.forceShutdown();
          resolve();
          return;
        }
        let done = false;
        server.tryShutdown(() => {
          done = true;
          resolve();
        });
        void options.sleep(graceMs).then(() => {
          if (!done) server.forceShutdown();
        });
      }),
  };
}
