/**
 * Helpers for the service's raw answers: turn a `ClassificationOutput` into an {@link Outcome}, name
 * error codes, check and summarise a `ClassifyResponse`. Pure and browser-safe.
 *
 * An output is a failure when its `error` field is present (even with an empty message); the
 * classifications of a failed output are ignored.
 *
 * @example
 * ```ts
 * import { hasOutputErrors, outputErrorSummary, processClassificationOutputs } from 'athena-rx';
 *
 * if (hasOutputErrors(response)) console.warn(outputErrorSummary(response)); // { MODEL_ERROR: 2 }
 * const { classified, failed } = processClassificationOutputs(response);
 * ```
 */
import { AthenaError, type ServiceErrorCode } from './errors.js';
import { scrubText } from './internal/secrets/scrub.js';
import {
  ErrorCode,
  type ClassificationError,
  type ClassificationOutput,
  type ClassifyResponse,
} from './generated/athena/models.js';
import {
  labelsOf,
  toFailure,
  type Classified,
  type ItemBase,
  type ItemFailure,
  type LabelWeight,
  type Outcome,
} from './model.js';

/** The name of a service error code; numbers this version does not know are kept as `UNKNOWN_<n>`. */
export type ErrorCodeName = ServiceErrorCode | `UNKNOWN_${number}`;

const CODE_NAMES: ReadonlyMap<number, ServiceErrorCode> = new Map([
  [ErrorCode.ERROR_CODE_UNSPECIFIED, 'UNSPECIFIED'],
  [ErrorCode.ERROR_CODE_IMAGE_TOO_LARGE, 'IMAGE_TOO_LARGE'],
  [ErrorCode.ERROR_CODE_MODEL_ERROR, 'MODEL_ERROR'],
  [ErrorCode.ERROR_CODE_AFFILIATE_NOT_PERMITTED, 'AFFILIATE_NOT_PERMITTED'],
  [ErrorCode.ERROR_CODE_DEPLOYMENT_ID_INVALID, 'DEPLOYMENT_ID_INVALID'],
  [ErrorCode.ERROR_CODE_CORRELATION_ID_INVALID, 'CORRELATION_ID_INVALID'],
]);

/** `ErrorCode` number to its name without the `ERROR_CODE_` prefix: `3` -> `'MODEL_ERROR'`, `42` -> `'UNKNOWN_42'`. */
export function errorCodeName(code: number): ErrorCodeName {
  return CODE_NAMES.get(code) ?? `UNKNOWN_${code}`;
}

/**
 * A `ClassificationError` (per output or `global_error`) as an {@link AthenaError}: `code` is the code's
 * name (`'UNKNOWN'` for a number this version does not know), `serviceCode` the number as sent,
 * `message` and `details` the service's, scrubbed of every secret the library holds and cut to about
 * 1 KB.
 */
export function fromClassificationError(error: ClassificationError): AthenaError {
  const number = typeof error.code === 'number' ? error.code : ErrorCode.ERROR_CODE_UNSPECIFIED;
  const known = CODE_NAMES.get(number);
  const message = error.message ? scrubText(error.message) : `The service reported ${errorCodeName(number)}`;
  const options: { serviceCode: number; details?: string } = { serviceCode: number };
  if (error.details) options.details = scrubText(error.details);
  return new AthenaError(known ?? 'UNKNOWN', message, options);
}

/**
 * One output as an {@link Outcome}: an {@link ItemFailure} at stage `classify` when `error` is set,
 * otherwise a {@link Classified} keeping every label in the order sent (a label sent without weight
 * has weight 0; a label the service left out stays absent). `item` (the input it answers) gives the
 * ref, index, meta and lease; without it the correlation id serves as ref.
 */
export function outputToOutcome(output: ClassificationOutput, item?: ItemBase): Outcome {
  const correlationId = output.correlationId || item?.correlationId || '';
  const base: ItemBase = { ...pickBase(item), ref: item?.ref ?? correlationId, correlationId };
  if (output.error !== undefined && output.error !== null) {
    return toFailure(base, 'classify', fromClassificationError(output.error));
  }
  const classifications: LabelWeight[] = (output.classifications ?? []).map((c) => ({
    label: c.label,
    weight: typeof c.weight === 'number' ? c.weight : 0,
  }));
  return {
    ...base,
    kind: 'classified',
    ok: true,
    correlationId,
    classifications,
    labels: labelsOf(classifications),
  };
}

function pickBase(item: ItemBase | undefined): Partial<ItemBase> {
  if (item === undefined) return {};
  const base: { -readonly [K in keyof ItemBase]?: ItemBase[K] } = {};
  if (item.index !== undefined) base.index = item.index;
  if (item.meta !== undefined) base.meta = item.meta;
  if (item.lease !== undefined) base.lease = item.lease;
  if (item.trace !== undefined) base.trace = item.trace;
  return base;
}

/** Whether a response carries a `global_error` or any output with `error` set. */
export function hasOutputErrors(response: ClassifyResponse): boolean {
  return (
    (response.globalError !== undefined && response.globalError !== null) ||
    (response.outputs ?? []).some((output) => output.error !== undefined && output.error !== null)
  );
}

/**
 * Failures counted by code name. For a response: each failed output once, and a `global_error` once
 * under its own code. For outcomes: each {@link ItemFailure} under its error's code (a service code
 * this version does not know stays `UNKNOWN_<n>`). Codes with no failure are absent.
 */
export function outputErrorSummary(source: ClassifyResponse | Iterable<Outcome>): Record<string, number> {
  const counts: Record<string, number> = {};
  const add = (name: string): void => {
    counts[name] = (counts[name] ?? 0) + 1;
  };
  if (isResponse(source)) {
    if (source.globalError) add(errorCodeName(source.globalError.code));
    for (const output of source.outputs ?? []) if (output.error) add(errorCodeName(output.error.code));
  } else {
    for (const outcome of source) if (!outcome.ok) add(failureCodeName(outcome));
  }
  return counts;
}

/** The code name of a failure, keeping unknown service numbers apart (`UNKNOWN_<n>`). */
export function failureCodeName(failure: ItemFailure): string {
  const { code, serviceCode } = failure.error;
  return serviceCode !== undefined && code === 'UNKNOWN' ? errorCodeName(serviceCode) : code;
}

function isResponse(source: ClassifyResponse | Iterable<Outcome>): source is ClassifyResponse {
  return !Array.isArray(source) && typeof source === 'object' && 'outputs' in source;
}

export interface ProcessOutputsOptions {
  /** Throw one {@link AthenaError} when the response has a global error or any failed output. Default false. */
  readonly raiseOnError?: boolean;
  /** The inputs by correlation id, so outcomes carry their ref, index, meta and lease. */
  readonly items?: ReadonlyMap<string, ItemBase>;
}

export interface ProcessedOutputs {
  /** Every output as an outcome, in response order. */
  readonly outcomes: readonly Outcome[];
  readonly classified: readonly Classified[];
  readonly failed: readonly ItemFailure[];
  /** The response's `global_error`, if any (its inputs are not listed: the response does not name them). */
  readonly globalError?: AthenaError;
}

/**
 * Every output of a response as an outcome. With `raiseOnError`, throws instead when anything failed:
 * the global error itself, or an {@link AthenaError} with the first failure's code whose message
 * counts the failures by code and whose `cause` is an `AggregateError` of them all. Messages name
 * codes and counts only, never image data or credentials.
 */
export function processClassificationOutputs(
  response: ClassifyResponse,
  options: ProcessOutputsOptions = {},
): ProcessedOutputs {
  const outcomes = (response.outputs ?? []).map((output) =>
    outputToOutcome(output, options.items?.get(output.correlationId)),
  );
  const classified = outcomes.filter((o): o is Classified => o.ok);
  const failed = outcomes.filter((o): o is ItemFailure => !o.ok);
  const globalError = response.globalError ? fromClassificationError(response.globalError) : undefined;
  if (options.raiseOnError === true) {
    if (globalError !== undefined) throw globalError;
    const first = failed[0];
    if (first !== undefined) {
      const summary = Object.entries(outputErrorSummary(failed))
        .map(([name, count]) => `${name}: ${count}`)
        .join(', ');
      throw new AthenaError(
        first.error.code,
        `${failed.length} of ${outcomes.length} outputs failed (${summary})`,
        {
          cause: new AggregateError(
            failed.map((f) => f.error),
            'Failed outputs',
          ),
          details: summary,
          ...(first.error.serviceCode === undefined ? {} : { serviceCode: first.error.serviceCode }),
        },
      );
    }
  }
  return globalError === undefined
    ? { outcomes, classified, failed }
    : { outcomes, classified, failed, globalError };
}
