import { ErrorCode, type ClassifyRequest } from '../generated/athena/models.js';
import { assertFunction, assertInteger, assertNumber, assertString } from '../internal/core/validate.js';
import { type Random } from './prng.js';
import { type InputProblem } from './validation.js';

/** When to fail a whole request batch with `global_error`. */
export interface GlobalErrorFault {
  /** Fail every Nth request with inputs, counted from when this fault was set (N >= 1). */
  readonly every?: number;
  /** Fail the requests this returns true for; `index` counts requests with inputs from 1. */
  readonly when?: (request: ClassifyRequest, index: number) => boolean;
  /** Code of the global error (default `ERROR_CODE_MODEL_ERROR`). */
  readonly code?: ErrorCode;
  /** Message of the global error (default `Injected global error`). */
  readonly message?: string;
}

/**
 * Faults the embedded server injects. Every knob is off when absent; random ones draw from the
 * server's seeded generator (see `seed`), so a run with the same seed and traffic repeats exactly.
 */
export interface AthenaFaults {
  /**
   * Latency added before answering each Classify request batch and each unary call: a fixed number
   * of milliseconds or a `[min, max]` range drawn uniformly.
   */
  readonly latencyMs?: number | readonly [number, number];
  /** Extra latency (ms) for a request that creates its deployment (an id the server does not know yet). */
  readonly newDeploymentLatencyMs?: number;
  /** Fraction (0..1) of otherwise valid inputs answered with an injected output error. */
  readonly errorRate?: number;
  /** Code of injected output errors (default `ERROR_CODE_MODEL_ERROR`). */
  readonly errorCode?: ErrorCode;
  /** Message of injected output errors (default `Injected model error`). */
  readonly errorMessage?: string;
  /** Fail chosen request batches with `global_error` (sent on the stream that sent the batch). */
  readonly globalError?: GlobalErrorFault;
  /**
   * Reset each Classify stream once this many outputs were sent on it: the call ends with
   * `INTERNAL` and details `Received RST_STREAM with code 2 ...`; outputs not yet sent stay queued
   * on the deployment. 0 resets a stream at its first delivery.
   */
  readonly resetAfterOutputs?: number;
  /**
   * Refuse new Classify streams and unary calls with `UNAVAILABLE` for this many milliseconds,
   * counted from when the fault is set. Open streams are not touched.
   */
  readonly unavailableForMs?: number;
  /** Fraction (0..1) of Classify outputs silently dropped: never answered. */
  readonly dropRate?: number;
  /**
   * A silent stall (a hung backend or proxy): every Classify stream stays open and keeps reading
   * requests but sends nothing. Outputs are still computed and stay queued on their deployment
   * (`deployments()[i].queued`); switching the stall off delivers them to the connected streams.
   * Global errors a stalled stream would send are dropped. A half-closed stream does not end
   * while stalled. Unary calls are not affected.
   */
  readonly stall?: boolean;
  /** Like `stall`, but each Classify stream stalls once it has sent this many outputs (0: at once). */
  readonly stallAfterOutputs?: number;
  /**
   * End each Classify stream at its next request with inputs, and each unary call, with a status
   * (`statusCode`) whose details echo the request metadata, `authorization` included: a hostile
   * server, for testing that clients scrub secrets from what peers send back.
   */
  readonly echoMetadata?: boolean;
  /**
   * Fail every otherwise valid input (Classify and ClassifySingle) with an output error whose
   * message and details contain the call's `authorization` value.
   */
  readonly leakAuthorization?: boolean;
  /** End each Classify stream at its next request with inputs, and each unary call, with a status carrying this many bytes of details. */
  readonly statusDetailsBytes?: number;
  /** Fail every otherwise valid input with an output error whose message is this many bytes long. */
  readonly outputErrorBytes?: number;
  /** gRPC status code of `echoMetadata` and `statusDetailsBytes` (default 13, `INTERNAL`). */
  readonly statusCode?: number;
}

/** The live fault settings of one server and the decisions drawn from them. */
export interface FaultState {
  /** Merges `partial` into the settings; a key given as `undefined` switches that fault off. */
  set(partial: AthenaFaults): void;
  /** Switches every fault off. */
  clear(): void;
  /** The current settings. */
  current(): AthenaFaults;
  /** Milliseconds to wait before answering (0 when no latency is set). */
  latency(): number;
  /** An injected output error for one input, or `undefined`. */
  inputError(): InputProblem | undefined;
  /** A global error for this request batch, or `undefined`. */
  globalError(request: ClassifyRequest): InputProblem | undefined;
  /** Whether to drop one output. */
  drop(): boolean;
  /** Whether new calls are refused right now. */
  unavailable(): boolean;
  /** Outputs a stream may send before it is reset, or `undefined`. */
  resetAfter(): number | undefined;
  /** Outputs a stream may send before it stalls (`stall` gives 0), or `undefined`. */
  stallAfter(): number | undefined;
}

/**
 * Creates the fault state of a server.
 *
 * @param initial - Initial faults (validated: TypeError/RangeError on bad values).
 * @param random - The server's seeded generator.
 * @param now - Clock in epoch milliseconds (default `Date.now`).
 */
export function createFaultState(initial: AthenaFaults, random: Random, now = Date.now): FaultState {
  let faults: AthenaFaults = {};
  let unavailableUntil = 0;
  let globalCount = 0;

  const set = (partial: AthenaFaults): void => {
    const next = { ...faults, ...partial };
    validateFaults(next);
    if ('unavailableForMs' in partial) unavailableUntil = now() + (partial.unavailableForMs ?? 0);
    if ('globalError' in partial) globalCount = 0;
    faults = next;
  };
  const chance = (rate: number | undefined): boolean => rate !== undefined && rate > 0 && random() < rate;
  set(initial);

  return {
    set,
    clear: () => {
      faults = {};
      unavailableUntil = 0;
      globalCount = 0;
    },
    current: () => ({ ...faults }),
    latency: () => {
      const l = faults.latencyMs;
      if (l === undefined) return 0;
      if (typeof l === 'number') return l;
      return l[0] + random() * (l[1] - l[0]);
    },
    inputError: () =>
      chance(faults.errorRate)
        ? {
            code: faults.errorCode ?? ErrorCode.ERROR_CODE_MODEL_ERROR,
            message: faults.errorMessage ?? 'Injected model error',
          }
        : undefined,
    globalError: (request) => {
      const g = faults.globalError;
      if (g === undefined) return undefined;
      globalCount++;
      const hit =
        (g.every !== undefined && globalCount % g.every === 0) || g.when?.(request, globalCount) === true;
      if (!hit) return undefined;
      return {
        code: g.code ?? ErrorCode.ERROR_CODE_MODEL_ERROR,
        message: g.message ?? 'Injected global error',
      };
    },
    drop: () => chance(faults.dropRate),
    unavailable: () => now() < unavailableUntil,
    resetAfter: () => faults.resetAfterOutputs,
    stallAfter: () => (faults.stall === true ? 0 : faults.stallAfterOutputs),
  };
}

/** Throws TypeError/RangeError for a bad fault setting. */
export function validateFaults(f: AthenaFaults): void {
  if (typeof f !== 'object' || f === null) throw new TypeError('faults must be an object');
  const l = f.latencyMs;
  if (Array.isArray(l)) {
    if (l.length !== 2) throw new RangeError('faults.latencyMs range must be [min, max]');
    assertNumber('faults.latencyMs[0]', l[0], 0);
    assertNumber('faults.latencyMs[1]', l[1], l[0] as number);
  } else if (l !== undefined) {
    assertNumber('faults.latencyMs', l, 0);
  }
  if (f.newDeploymentLatencyMs !== undefined)
    assertNumber('faults.newDeploymentLatencyMs', f.newDeploymentLatencyMs, 0);
  if (f.errorRate !== undefined) assertNumber('faults.errorRate', f.errorRate, 0, 1);
  if (f.errorCode !== undefined) assertInteger('faults.errorCode', f.errorCode, 0);
  if (f.errorMessage !== undefined) assertString('faults.errorMessage', f.errorMessage, { allowEmpty: true });
  if (f.dropRate !== undefined) assertNumber('faults.dropRate', f.dropRate, 0, 1);
  if (f.resetAfterOutputs !== undefined) assertInteger('faults.resetAfterOutputs', f.resetAfterOutputs, 0);
  if (f.unavailableForMs !== undefined) assertNumber('faults.unavailableForMs', f.unavailableForMs, 0);
  validateFieldFaults(f);
  const g = f.globalError;
  if (g !== undefined) {
    if (typeof g !== 'object' || g === null) throw new TypeError('faults.globalError must be an object');
    if (g.every === undefined && g.when === undefined) {
      throw new RangeError('faults.globalError needs `every` or `when`');
    }
    if (g.every !== undefined) assertInteger('faults.globalError.every', g.every, 1);
    if (g.when !== undefined) assertFunction('faults.globalError.when', g.when);
    if (g.code !== undefined) assertInteger('faults.globalError.code', g.code, 0);
    if (g.message !== undefined) assertString('faults.globalError.message', g.message, { allowEmpty: true });
  }
}

function validateFieldFaults(f: AthenaFaults): void {
  for (const key of ['stall', 'echoMetadata', 'leakAuthorization'] as const) {
    if (f[key] !== undefined && typeof f[key] !== 'boolean')
      throw new TypeError(`faults.${key} must be a boolean`);
  }
  if (f.stallAfterOutputs !== undefined) assertInteger('faults.stallAfterOutputs', f.stallAfterOutputs, 0);
  if (f.statusDetailsBytes !== undefined) assertInteger('faults.statusDetailsBytes', f.statusDetailsBytes, 0);
  if (f.outputErrorBytes !== undefined) assertInteger('faults.outputErrorBytes', f.outputErrorBytes, 0);
  if (f.statusCode !== undefined) assertInteger('faults.statusCode', f.statusCode, 1, 16);
}
