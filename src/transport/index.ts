/**
 * The athena-rx/transport entry point: the gRPC client, token sources and deployment helpers.
 *
 * @module athena-rx/transport
 */
export { AthenaClient, createAthenaClient, type AthenaClientOptions } from './AthenaClient.js';
export { DEFAULT_ADDRESS, DEFAULT_CHANNEL_OPTIONS, MAX_MESSAGE_BYTES, isLoopbackAddress } from './channel.js';
export {
  checkHealth,
  type CheckHealthOptions,
  type HealthCheck,
  type HealthCheckTarget,
  type HealthReport,
  type HealthStatus,
} from './health.js';
export { CLIENT_LANGUAGE, CLIENT_VERSION, LIBRARY_VERSION } from './version.js';
export {
  validateDeploymentId,
  newDeploymentId,
  selectDeployment,
  MAX_DEPLOYMENT_ID_LENGTH,
  DEFAULT_DEPLOYMENT_PREFIX,
  type DeploymentStrategy,
  type DeploymentLister,
  type SelectDeploymentOptions,
} from './deployments.js';
export {
  clientCredentials,
  DEFAULT_AUDIENCE,
  DEFAULT_TOKEN_URL,
  type ClientCredentialsOptions,
  type RefreshingTokenSource,
  type TokenFetch,
  type TokenHttpRequest,
  type TokenHttpResponse,
  type TokenRefreshOptions,
} from './clientCredentials.js';
export { passwordGrant, type PasswordGrantOptions } from './passwordGrant.js';
export { staticToken } from './staticToken.js';
export type {
  ImageTelemetryOptions,
  MeterProviderLike,
  TelemetryOptions,
  TracerProviderLike,
} from '../telemetry/options.js';
export type {
  AccessToken,
  TokenSource,
  ClassifyStreamClient,
  ClassifyStreamHooks,
  ClassifySingleClient,
  ClassifySingleOptions,
  ClassifyEvent,
} from './contracts.js';
