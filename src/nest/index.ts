/**
 * The athena-rx/nest entry point: a NestJS module providing one AthenaClient per application, for
 * NestJS 10, 11 and 12 (`@nestjs/common` and `@nestjs/core`, optional peers of the package), and a
 * WebSocket gateway that classifies images prepared in browsers over the application's one Classify
 * stream (`@nestjs/websockets` and `@nestjs/platform-ws`, optional peers, loaded only by it).
 *
 * @module athena-rx/nest
 */
export {
  ATHENA_OPTIONS,
  ATHENA_TOKEN_SOURCE,
  AthenaClientLifecycle,
  AthenaModule,
  type AthenaModuleAsyncOptions,
} from './AthenaModule.js';
export {
  AthenaHealthIndicator,
  type AthenaHealthCheckError,
  type AthenaHealthCheckOptions,
  type AthenaHealthIndicatorResult,
} from './AthenaHealthIndicator.js';
export { ATHENA_GATEWAY_HUB, AthenaGatewayModule, type AthenaGatewayOptions } from './AthenaGatewayModule.js';
export type { GatewayHub } from './gateway/hub.js';
export type { WireLimits } from '../internal/gateway/protocol.js';
export { AthenaClient, type AthenaClientOptions } from '../transport/AthenaClient.js';
