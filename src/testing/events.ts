/**
 * What the embedded service reports about its traffic (`onEvent`): one event per request received
 * and per output sent, with ids and codes only. Never image bytes, hashes or call metadata, so
 * tokens and images cannot reach a log through it.
 */
import {
  ImageFormat,
  RequestEncoding,
  type ClassificationInput,
  type ClassificationOutput,
} from '../generated/athena/models.js';
import { errorCodeName } from './counters.js';

/** The RPC an event belongs to. */
export type AthenaMethod = 'Classify' | 'ListDeployments' | 'ClassifySingle';

/** One input of a request, as far as a log may show it. */
export interface AthenaInputSummary {
  readonly correlationId: string;
  readonly affiliate: string;
  /** `ImageFormat` name without `IMAGE_FORMAT_` (or the number when unknown). */
  readonly format: string;
  /** `RequestEncoding` name without `REQUEST_ENCODING_` (or the number when unknown). */
  readonly encoding: string;
  /** Length of `data` as sent; the bytes themselves are never reported. */
  readonly bytes: number;
  /** How many hashes came with the input (their values are not reported). */
  readonly hashes: number;
}

/** A request received: a Classify request (keepalives have no inputs) or a unary call. */
export interface AthenaRequestEvent {
  readonly type: 'request';
  readonly method: AthenaMethod;
  /** Classify only. */
  readonly deploymentId?: string;
  readonly inputs: readonly AthenaInputSummary[];
}

/** An output sent (or, for ListDeployments, the answer), or a Classify global error. */
export interface AthenaOutputEvent {
  readonly type: 'output';
  readonly method: AthenaMethod;
  readonly deploymentId?: string;
  readonly correlationId?: string;
  /** `ErrorCode` name without `ERROR_CODE_` of an output error or global error; absent on success. */
  readonly code?: string;
  readonly globalError?: true;
  /** Labels of a successful output; deployments listed for ListDeployments. */
  readonly labels?: number;
  readonly deployments?: number;
}

/** A call ended with a status other than OK by the service itself (refusals, aborts, resets). */
export interface AthenaStatusEvent {
  readonly type: 'status';
  readonly method: AthenaMethod;
  /** The gRPC status code. */
  readonly status: number;
  readonly deploymentId?: string;
}

/** Everything `onEvent` receives. */
export type AthenaServerEvent = AthenaRequestEvent | AthenaOutputEvent | AthenaStatusEvent;

/** Receives the service's events; must not throw (a throw is swallowed). */
export type AthenaEventListener = (event: AthenaServerEvent) => void;

/** The safe summary of one input. */
export function summariseInput(input: ClassificationInput): AthenaInputSummary {
  return {
    correlationId: input.correlationId,
    affiliate: input.affiliate,
    format: enumName(ImageFormat, input.format, 'IMAGE_FORMAT_'),
    encoding: enumName(RequestEncoding, input.encoding, 'REQUEST_ENCODING_'),
    bytes: input.data.length,
    hashes: input.hashes.length,
  };
}

/** The event of one output sent by `method`. */
export function outputEvent(
  method: AthenaMethod,
  output: ClassificationOutput,
  deploymentId?: string,
): AthenaOutputEvent {
  const base = { type: 'output' as const, method, deploymentId, correlationId: output.correlationId };
  return output.error !== undefined
    ? { ...base, code: errorCodeName(output.error.code) }
    : { ...base, labels: output.classifications.length };
}

/** Calls `listener` (if any), swallowing what it throws. */
export function emitTo(listener: AthenaEventListener | undefined): (event: AthenaServerEvent) => void {
  if (listener === undefined) return () => undefined;
  return (event) => {
    try {
      listener(event);
    } catch {
      // A listener's failure must not break the service.
    }
  };
}

function enumName(values: Record<number, string>, value: number, prefix: string): string {
  const name = values[value];
  return name === undefined || name === 'UNRECOGNIZED' ? String(value) : name.replace(prefix, '');
}
