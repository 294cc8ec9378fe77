import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type InjectionToken,
  type ModuleMetadata,
  type OnApplicationShutdown,
  type OptionalFactoryDependency,
  type Provider,
} from '@nestjs/common';
import { AthenaClient, type AthenaClientOptions } from '../transport/AthenaClient.js';
import type { TokenSource } from '../transport/contracts.js';
import { AthenaHealthIndicator } from './AthenaHealthIndicator.js';

/** Injection token of the module's options. */
export const ATHENA_OPTIONS = Symbol.for('athena-rx:options');
/** Injection token of the token source the client uses (undefined when none is configured). */
export const ATHENA_TOKEN_SOURCE = Symbol.for('athena-rx:token-source');

export interface AthenaModuleAsyncOptions {
  /** Modules whose providers the factory needs (a ConfigModule, ...). */
  readonly imports?: ModuleMetadata['imports'];
  /** Builds the client options; may be async. */
  readonly useFactory: (...args: never[]) => AthenaClientOptions | Promise<AthenaClientOptions>;
  /** What to inject into the factory. */
  readonly inject?: Array<InjectionToken | OptionalFactoryDependency>;
}

/** Closes the client when the application shuts down (`app.close()` or a shutdown hook). */
@Injectable()
export class AthenaClientLifecycle implements OnApplicationShutdown {
  constructor(@Inject(AthenaClient) private readonly client: AthenaClient) {}

  onApplicationShutdown(): void {
    this.client.close();
  }
}

const sharedProviders: Provider[] = [
  {
    provide: AthenaClient,
    useFactory: (options: AthenaClientOptions) => new AthenaClient(options),
    inject: [ATHENA_OPTIONS],
  },
  {
    provide: ATHENA_TOKEN_SOURCE,
    useFactory: (options: AthenaClientOptions): TokenSource | undefined => options.credentials,
    inject: [ATHENA_OPTIONS],
  },
  AthenaClientLifecycle,
  AthenaHealthIndicator,
];

/**
 * Provides one {@link AthenaClient} (and its token source) to a whole Nest application, closed on
 * shutdown. Inject it with `@Inject(AthenaClient)`. Also provides {@link AthenaHealthIndicator} for
 * `@nestjs/terminus` health checks.
 *
 * @example
 * ```ts
 * import { Module } from '@nestjs/common';
 * import { AthenaModule } from 'athena-rx/nest';
 * import { clientCredentials } from 'athena-rx/transport';
 *
 * @Module({
 *   imports: [
 *     AthenaModule.forRoot({
 *       address: 'api.athena-risk-intelligence.com:443',
 *       credentials: clientCredentials({ clientId: 'id', clientSecret: 'secret' }),
 *     }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 */
@Global()
@Module({})
export class AthenaModule {
  static forRoot(options: AthenaClientOptions): DynamicModule {
    return {
      module: AthenaModule,
      providers: [{ provide: ATHENA_OPTIONS, useValue: options }, ...sharedProviders],
      exports: [AthenaClient, ATHENA_TOKEN_SOURCE, AthenaHealthIndicator],
    };
  }

  static forRootAsync(options: AthenaModuleAsyncOptions): DynamicModule {
    return {
      module: AthenaModule,
      imports: options.imports ?? [],
      providers: [
        { provide: ATHENA_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
        ...sharedProviders,
      ],
      exports: [AthenaClient, ATHENA_TOKEN_SOURCE, AthenaHealthIndicator],
    };
  }
}
