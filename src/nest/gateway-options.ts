/**
 * The options of `AthenaGatewayModule.forRoot`, checked when it is called, and their defaults.
 */
import type { CanActivate, ModuleMetadata, Type } from '@nestjs/common';
import type { SchedulerLike } from 'rxjs';
import type { ClassifyOptions } from '../internal/classify/options.js';
import { MAX_HEADER_BYTES, PREPARED_BYTES, type WireLimits } from '../internal/gateway/protocol.js';
import { assertFunction, assertInteger, assertNumber, assertString } from '../internal/core/validate.js';

/** Options of `AthenaGatewayModule.forRoot`: where it listens, what it classifies with, who may connect, and the limits. */
export interface AthenaGatewayOptions {
  /** URL path of the WebSocket endpoint, such as `/athena`. */
  readonly path: string;
  /** Port of its own to listen on; default 0: the application's HTTP server. */
  readonly port?: number;
  /** Deployment every image is classified by. */
  readonly deploymentId: string;
  /** Affiliate sent with every image. */
  readonly affiliate: string;
  /** Guards every connection must pass (Nest guard classes, created by Nest's injector). */
  readonly guards?: readonly Type<CanActivate>[];
  /** Modules whose providers the guards inject (a session or users module...). */
  readonly imports?: ModuleMetadata['imports'];
  /**
   * Per-connection limits: `maxInFlight` images (32), `maxImageBytes` per image (602,112 + 1,024),
   * `maxBytesInFlight` (32 prepared images), `ratePerSecond` (50) with `burst` (100) images.
   */
  readonly limits?: Partial<WireLimits>;
  /** Further options of the shared `classify` run (timeouts, reconnect policy, events...). */
  readonly classify?: Omit<ClassifyOptions, 'deploymentId' | 'affiliate'>;
  /** Source of time for the rate limit (default `asyncScheduler`; classify's own is in `classify`). */
  readonly scheduler?: SchedulerLike;
}

/** The validated options with their defaults filled in. */
export interface AthenaGatewayConfig {
  readonly path: string;
  readonly port: number;
  readonly guards: readonly Type<CanActivate>[];
  readonly imports: NonNullable<ModuleMetadata['imports']>;
  readonly limits: WireLimits;
  readonly classify: ClassifyOptions;
  readonly scheduler: SchedulerLike | undefined;
  /** Largest frame the socket takes; a larger one closes the connection (1009). */
  readonly maxPayload: number;
}

export function gatewayConfig(options: AthenaGatewayOptions): AthenaGatewayConfig {
  if (typeof options !== 'object' || options === null) throw new TypeError('gateway options are required');
  const path = assertString('path', options.path);
  if (!path.startsWith('/')) throw new RangeError(`path must start with "/", got ${JSON.stringify(path)}`);
  const guards = options.guards ?? [];
  if (!Array.isArray(guards)) throw new TypeError('guards must be an array of guard classes');
  guards.forEach((guard, i) => assertFunction(`guards[${i}]`, guard));
  const imports = options.imports ?? [];
  if (!Array.isArray(imports)) throw new TypeError('imports must be an array of modules');
  const given = options.limits ?? {};
  const maxInFlight = assertInteger('limits.maxInFlight', given.maxInFlight ?? 32, 1);
  const limits: WireLimits = {
    maxInFlight,
    maxImageBytes: assertInteger('limits.maxImageBytes', given.maxImageBytes ?? PREPARED_BYTES + 1024, 1),
    maxBytesInFlight: assertInteger(
      'limits.maxBytesInFlight',
      given.maxBytesInFlight ?? 32 * PREPARED_BYTES,
      1,
    ),
    ratePerSecond: assertNumber('limits.ratePerSecond', given.ratePerSecond ?? 50, Number.MIN_VALUE),
    burst: assertInteger('limits.burst', given.burst ?? 100, 1),
  };
  if (options.scheduler !== undefined) assertFunction('scheduler.now', options.scheduler?.now);
  return {
    path,
    port: assertInteger('port', options.port ?? 0, 0, 65_535),
    guards,
    imports,
    limits,
    classify: {
      ...options.classify,
      deploymentId: assertString('deploymentId', options.deploymentId),
      affiliate: assertString('affiliate', options.affiliate),
    },
    scheduler: options.scheduler,
    maxPayload: 2 * (limits.maxImageBytes + MAX_HEADER_BYTES + 5),
  };
}
