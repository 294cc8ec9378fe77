/**
 * The athena-rx/nest entry point: a NestJS module providing one AthenaClient per application, for
 * NestJS 10, 11 and 12 (`@nestjs/common` and `@nestjs/core`, optional peers of the package).
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
export { AthenaClient, type AthenaClientOptions } from '../transport/AthenaClient.js';
