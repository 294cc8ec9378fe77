/**
 * The athena-rx/nest entry point: a NestJS module providing one AthenaClient per application.
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
export { AthenaClient, type AthenaClientOptions } from '../transport/AthenaClient.js';
