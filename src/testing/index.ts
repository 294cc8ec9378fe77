/**
 * The athena-rx/testing entry point: the embedded Athena-compatible server for tests, benchmarks and local runs.
 *
 * @module athena-rx/testing
 */
export {
  startAthenaServer,
  type AthenaServer,
  type AthenaServerOptions,
  type AthenaServerRestartOptions,
  type AthenaServerStopOptions,
  type AthenaServerTls,
  type AthenaServerOAuth,
} from './server.js';
export {
  startTokenIssuer,
  DEFAULT_ISSUER_AUDIENCE,
  type TokenIssuer,
  type TokenIssuerOptions,
} from './issuer.js';
export { type OAuthClient } from './token-grant.js';
export { createSelfSignedTls, type SelfSignedTls } from './self-signed.js';
export { createAthenaService, type AthenaService, type AthenaServiceOptions } from './service.js';
export { type AthenaFaults, type GlobalErrorFault } from './faults.js';
export { type AthenaServerCounters } from './counters.js';
export { type AthenaServerAuth } from './auth.js';
export { type DeploymentInfo } from './deployments.js';
export {
  type AthenaEventListener,
  type AthenaInputSummary,
  type AthenaMethod,
  type AthenaOutputEvent,
  type AthenaRequestEvent,
  type AthenaServerEvent,
  type AthenaStatusEvent,
} from './events.js';
export {
  BENIGN_LABELS,
  ENTROPY_LABEL,
  PCSAM_LABEL,
  KNOWN_MD5_LABEL,
  KNOWN_SHA1_LABEL,
  MODEL_SIZE,
  MODEL_INPUT_BYTES,
  type BenignLabel,
} from './labels.js';
export { classifyBgr, type LabelWeight } from './classifier.js';
export { affiliateNotPermittedMessage, IMAGE_ERROR_PREFIX, MAX_ID_LENGTH } from './validation.js';
export { RST_STREAM_DETAILS } from './classify-stream.js';
export { seededRandom, type Random } from './prng.js';
export { jwtVerifier, type JwtVerifierOptions, type TokenVerifier } from './jwtVerifier.js';
export { ClassifierServiceService, type ClassifierServiceServer } from '../generated/athena/athena.js';
