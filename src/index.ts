/**
 * athena-rx: classify images with an Athena-compatible gRPC service, as composable RxJS operators.
 *
 * The root entry point holds the railway types, the error family and the pure helpers; operators,
 * sources, transport and the embedded test server have their own entry points.
 *
 * @module athena-rx
 */
export {
  AthenaError,
  OAuthError,
  GRPC_STATUS_NAMES,
  grpcStatusName,
  redactUrl,
  type AthenaErrorCode,
  type AthenaErrorOptions,
  type ClientErrorCode,
  type GrpcStatusName,
  type ServiceErrorCode,
} from './errors.js';
export {
  HashType,
  ImageFormat,
  RequestEncoding,
  imageItem,
  isBatch,
  isClassified,
  isFailure,
  isImageItem,
  labelsOf,
  toFailure,
  type Classified,
  type FailureStage,
  type ImageBatch,
  type ImageHash,
  type ImageItem,
  type ItemBase,
  type ItemFailure,
  type ItemOrFailure,
  type LabelWeight,
  type Lease,
  type Outcome,
  type RailwayValue,
} from './model.js';
export { type SourceEvent, type SourceFlowOptions, type WindowStallEvent } from './internal/flow/stall.js';
export type {
  ImagePhase,
  ImageTelemetryOptions,
  ImageTrace,
  ImageTraceOutcome,
  MeterProviderLike,
  TelemetryOptions,
  TracerProviderLike,
} from './telemetry/options.js';
export {
  errorCodeName,
  failureCodeName,
  fromClassificationError,
  hasOutputErrors,
  outputErrorSummary,
  outputToOutcome,
  processClassificationOutputs,
  type ErrorCodeName,
  type ProcessOutputsOptions,
  type ProcessedOutputs,
} from './outputs.js';
export {
  prepareImage,
  DEFAULT_MAX_PIXELS,
  MODEL_INPUT_BYTES,
  MODEL_INPUT_SIZE,
  type DecodeStrictness,
  type PrepareImageOptions,
  type PrepareMode,
  type PreparedImage,
} from './imaging/prepare.js';
export { detectImageFormat } from './imaging/sniff.js';
export {
  BENIGN_LABELS,
  ENTROPY_LABEL,
  KNOWN_MD5_LABEL,
  KNOWN_SHA1_LABEL,
  LIVE_LABELS,
  PCSAM_LABEL,
  type BenignLabel,
  type LiveLabel,
} from './labels.js';
export {
  ClassificationError,
  ClassificationInput,
  ClassificationOutput,
  Classification,
  ClassifyRequest,
  ClassifyResponse,
  Deployment,
  ErrorCode,
  ListDeploymentsResponse,
} from './generated/athena/models.js';
