/**
 * A real Nest application with the Athena gateway for the gateway specs: `NestFactory` with the
 * `ws` adapter on a loopback port, `AthenaModule` against a given embedded server, a guard that
 * wants `?ticket=letmein` (checked by a service of the application's, injected into the guard) and
 * keeps every server-side socket it let in, and prepared test images.
 */
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync } from 'node:zlib';
import {
  Inject,
  Injectable,
  Module,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WsAdapter } from '@nestjs/platform-ws';
import type { SchedulerLike } from 'rxjs';
import { WebSocket } from 'ws';
import { HashType, ImageFormat, RequestEncoding } from '../../src/generated/athena/models.js';
import type { WireLimits } from '../../src/internal/gateway/protocol.js';
import { imageItem, type ImageItem } from '../../src/model.js';
import { AthenaGatewayModule } from '../../src/nest/AthenaGatewayModule.js';
import { AthenaModule } from '../../src/nest/AthenaModule.js';
import { staticToken } from '../../src/transport/staticToken.js';
import type { ViaSocket, WebSocketFactory } from '../../src/browser/classify-via.js';

export const TICKET = 'letmein';
const SIDE = 448;

export interface GatewayApp {
  /** The gateway URL with a valid ticket. */
  readonly url: string;
  /** The gateway URL without one. */
  readonly bare: string;
  /** Server-side sockets the guard let in, in order. */
  readonly sockets: WebSocket[];
  close(): Promise<void>;
}

export async function startGatewayApp(options: {
  athena: string;
  deploymentId: string;
  limits?: Partial<WireLimits>;
  scheduler?: SchedulerLike;
}): Promise<GatewayApp> {
  const sockets: WebSocket[] = [];

  /** The application's own service, in a module of its own: the guard gets it from Nest's injector. */
  @Injectable()
  class Tickets {
    valid(ticket: string | null): boolean {
      return ticket === TICKET;
    }
  }

  @Module({ providers: [Tickets], exports: [Tickets] })
  class TicketsModule {}

  @Injectable()
  class TicketGuard implements CanActivate {
    constructor(@Inject(Tickets) private readonly tickets: Tickets) {}

    canActivate(context: ExecutionContext): boolean {
      const request = context.switchToHttp().getRequest<{ url?: string }>();
      const ticket = new URL(request.url ?? '/', 'http://gateway').searchParams.get('ticket');
      if (ticket === 'forbidden') return false;
      if (!this.tickets.valid(ticket)) throw new UnauthorizedException();
      sockets.push(context.switchToWs().getClient<WebSocket>());
      return true;
    }
  }

  @Module({
    imports: [
      AthenaModule.forRoot({ address: options.athena, insecure: true, credentials: staticToken('gw-token') }),
      AthenaGatewayModule.forRoot({
        path: '/athena',
        deploymentId: options.deploymentId,
        affiliate: 'acme',
        imports: [TicketsModule],
        guards: [TicketGuard],
        ...(options.limits ? { limits: options.limits } : {}),
        ...(options.scheduler ? { scheduler: options.scheduler } : {}),
      }),
    ],
  })
  class AppModule {}

  const app = await NestFactory.create(AppModule, { logger: false });
  app.useWebSocketAdapter(new WsAdapter(app));
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const bare = `ws://127.0.0.1:${port}/athena`;
  return { url: `${bare}?ticket=${TICKET}`, bare, sockets, close: () => app.close() };
}

/** Opens sockets with the `ws` package, counting them. */
export function wsFactory(): WebSocketFactory & { opened: number } {
  const factory = Object.assign(
    (url: string) => {
      factory.opened += 1;
      return new WebSocket(url) as unknown as ViaSocket;
    },
    { opened: 0 },
  );
  return factory;
}

/** 448 x 448 B,G,R pixels of one colour. */
export function pixels(b: number, g: number, r: number): Buffer {
  const raw = Buffer.alloc(SIDE * SIDE * 3);
  for (let i = 0; i < raw.length; i += 3) {
    raw[i] = b;
    raw[i + 1] = g;
    raw[i + 2] = r;
  }
  return raw;
}

/** A prepared image item as `resize` (and with `brotli`, `compress`) would give it, with digests. */
export function prepared(id: string, raw: Buffer, brotli = false, ref = `${id}.jpg`): ImageItem {
  const digest = (name: string) => createHash(name).update(raw).digest('hex');
  return imageItem({
    ref,
    data: brotli ? brotliCompressSync(raw) : raw,
    format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR,
    encoding: brotli
      ? RequestEncoding.REQUEST_ENCODING_BROTLI
      : RequestEncoding.REQUEST_ENCODING_UNCOMPRESSED,
    hashes: [
      { type: HashType.HASH_TYPE_MD5, value: digest('md5') },
      { type: HashType.HASH_TYPE_SHA1, value: digest('sha1') },
    ],
    correlationId: id,
  });
}
