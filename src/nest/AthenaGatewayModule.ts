import {
  Inject,
  Injectable,
  Module,
  type CanActivate,
  type DynamicModule,
  type OnModuleDestroy,
  type Type,
} from '@nestjs/common';
import type { OnGatewayConnection } from '@nestjs/websockets';
import { asyncScheduler } from 'rxjs';
import { AthenaClient } from '../transport/AthenaClient.js';
import { createGatewayHub, type GatewayHub } from './gateway/hub.js';
import { serveConnection, type GatewaySocket } from './gateway/connection.js';
import { gatewayConfig, type AthenaGatewayConfig, type AthenaGatewayOptions } from './gateway-options.js';
import { letIn } from './gateway-guards.js';

export type { AthenaGatewayOptions };

/** Injection token of the gateway's hub (its one Classify stream and the connections' routes). */
export const ATHENA_GATEWAY_HUB = Symbol.for('athena-rx:gateway-hub');
const GUARDS = Symbol.for('athena-rx:gateway-guards');
const CONFIG = Symbol.for('athena-rx:gateway-config');

/** Cancels the gateway's stream when the application shuts down. */
@Injectable()
class GatewayLifecycle implements OnModuleDestroy {
  constructor(@Inject(ATHENA_GATEWAY_HUB) private readonly hub: GatewayHub) {}

  onModuleDestroy(): void {
    this.hub.close();
  }
}

/**
 * The gateway class, decorated once `@nestjs/websockets` is loaded: loading it lazily keeps
 * `athena-rx/nest` usable in applications without WebSockets.
 */
async function gatewayClass(config: AthenaGatewayConfig): Promise<Type<OnGatewayConnection>> {
  const { WebSocketGateway } = await import('@nestjs/websockets');

  @Injectable()
  class AthenaGateway implements OnGatewayConnection {
    constructor(
      @Inject(ATHENA_GATEWAY_HUB) private readonly hub: GatewayHub,
      @Inject(GUARDS) private readonly guards: readonly CanActivate[],
    ) {}

    async handleConnection(socket: RefusableSocket, request: unknown): Promise<void> {
      const refusal = await letIn(this.guards, AthenaGateway, socket, request);
      if (refusal !== undefined) socket.close(refusal.code, refusal.reason);
      else serveConnection(socket, this.hub, config.limits, config.scheduler ?? asyncScheduler);
    }
  }
  WebSocketGateway(config.port, { path: config.path, maxPayload: config.maxPayload })(AthenaGateway);
  return AthenaGateway;
}

type RefusableSocket = GatewaySocket & { close(code: number, reason: string): void };

/**
 * A WebSocket gateway for browsers (see `classifyVia` in `athena-rx/browser`): each connection sends
 * prepared images with their original's digests; all of them are classified over ONE Classify stream
 * of the application's {@link AthenaClient} (import `AthenaModule` too), and each connection gets the
 * outcomes of its own images only. Per connection: images in flight, bytes in flight and a rate are
 * limited; an image over a limit, or a malformed one, gets a failure outcome at stage `validate`
 * (`RESOURCE_EXHAUSTED`, `DUPLICATE_ID`, `INVALID_ID`, `INVALID_INPUT`) and nothing else is lost.
 *
 * Mount it behind the application's own authentication: `guards` are Nest guards (classes, created
 * by Nest's injector) run once per connection before anything is read; `switchToHttp().getRequest()`
 * and `switchToWs().getData()` give the upgrade request (headers, cookies, URL). A guard that returns
 * false or throws closes the socket with 4403; one that throws an error with status 401 with 4401.
 * Needs `@nestjs/websockets` and `@nestjs/platform-ws`, with `app.useWebSocketAdapter(new WsAdapter(app))`.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     AthenaModule.forRoot({ address: 'athena.example:443', credentials }),
 *     AthenaGatewayModule.forRoot({
 *       path: '/athena',
 *       deploymentId: 'my-deployment',
 *       affiliate: 'my-affiliate',
 *       guards: [SessionGuard],
 *     }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 *
 * `forRoot` returns a promise of the module (Nest takes it in `imports`): `@nestjs/websockets` is
 * loaded only then.
 *
 * @throws TypeError or RangeError from `forRoot` when an option is invalid.
 */
@Module({})
export class AthenaGatewayModule {
  /** Checks the options now, and returns the module once `@nestjs/websockets` is loaded. */
  static forRoot(options: AthenaGatewayOptions): Promise<DynamicModule> {
    const config = gatewayConfig(options);
    return gatewayModule(config);
  }
}

async function gatewayModule(config: AthenaGatewayConfig): Promise<DynamicModule> {
  const guards = config.guards;
  return {
    module: AthenaGatewayModule,
    imports: config.imports,
    providers: [
      { provide: CONFIG, useValue: config },
      ...guards,
      { provide: GUARDS, useFactory: (...found: CanActivate[]) => found, inject: [...guards] },
      {
        provide: ATHENA_GATEWAY_HUB,
        useFactory: (client: AthenaClient) => createGatewayHub(client, config.classify),
        inject: [AthenaClient],
      },
      GatewayLifecycle,
      await gatewayClass(config),
    ],
    exports: [ATHENA_GATEWAY_HUB],
  };
}
