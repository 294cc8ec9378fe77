/**
 * A plain HTTP server on a loopback port for tests that need a web server of their own (a
 * misbehaving one, a key set, a page), the endless answer several of them serve, and a free port.
 */
import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';

export interface LoopbackServer {
  readonly server: Server;
  /** `http://127.0.0.1:PORT`, without a trailing slash. */
  readonly base: string;
  /** Drops every connection, then resolves once the server is closed. */
  close(): Promise<void>;
}

/** Starts `handler` on a free port of 127.0.0.1. */
export async function listenOnLoopback(handler: RequestListener): Promise<LoopbackServer> {
  const server = createServer(handler);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    server,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

export interface EndlessOptions {
  /** Most bytes written: a bound on the loop, far above every cap under test. */
  readonly bound: number;
  /** Bytes of zeros per write. */
  readonly chunkBytes: number;
  /** Called with the bytes written so far after each write. */
  readonly onSent?: (sent: number) => void;
}

/** Answers 200 with `first`, then zeros under backpressure, until the client goes away or `bound`. */
export function writeEndless(res: ServerResponse, first: Uint8Array, options: EndlessOptions): void {
  res.writeHead(200, { 'content-type': 'image/jpeg' });
  const zeros = Buffer.alloc(options.chunkBytes);
  let sent = 0;
  const pump = (): void => {
    while (!res.destroyed && sent < options.bound) {
      const chunk = sent === 0 ? Buffer.from(first) : zeros;
      sent += chunk.byteLength;
      options.onSent?.(sent);
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  pump();
}

/** A loopback port that was free a moment ago and that nothing listens on now. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
