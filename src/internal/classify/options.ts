import { asyncScheduler, config as rxConfig, type Observer, type SchedulerLike } from 'rxjs';
import type { ClassificationOutput } from '../../generated/athena/models.js';
import type { ClassifyEvent } from '../../transport/contracts.js';
import { isRetryable, retryPolicy, type RetryPolicy } from '../retry/policy.js';
import type { AthenaError } from '../../errors.js';
import { MAX_ID_LENGTH, MAX_TIMER_MS } from '../core/limits.js';
import {
  assertBoolean,
  assertFunction,
  assertInteger,
  assertNumber,
  assertString,
} from '../core/validate.js';
import { telemetrySetup, type TelemetryOptions, type TelemetrySetup } from '../../telemetry/options.js';

/**
 * Statuses worth opening the stream again for: the transient ones of {@link isRetryable}, and
 * `CANCELLED`, which a call the client did not cancel gets when the server shuts down (a deploy).
 */
export function isReconnectable(error: AthenaError): boolean {
  return error.code === 'CANCELLED' || isRetryable(error);
}

/**
 * The default reconnect policy: rides out an outage of two minutes (refused connections,
 * `UNAVAILABLE`, a server shutting down), waiting a jittered delay of at most 5 s between attempts.
 * The budget is time; the attempt count only bounds a storm of instant failures.
 */
export const DEFAULT_RECONNECT_POLICY: Readonly<Partial<RetryPolicy>> = Object.freeze({
  maxAttempts: 10_000,
  initialDelayMs: 250,
  maxDelayMs: 5_000,
  multiplier: 2,
  budgetMs: 120_000,
  retryable: isReconnectable,
});

/**
 * Options of `classify`. `tracerProvider` and `meterProvider` (default: the global providers of
 * `@opentelemetry/api`, when installed) receive a span per stream connection and the run's metrics.
 */
export interface ClassifyOptions extends TelemetryOptions {
  /** Deployment the stream is opened for: non-empty, at most 63 characters. */
  readonly deploymentId: string;
  /** Affiliate sent with every input (required by the service for access control and billing). */
  readonly affiliate: string;
  /** Items admitted to the stream and not yet emitted as outcomes (default 256). */
  readonly maxInFlight?: number;
  /**
   * An item without an output this long after it was first written fails with `TIMEOUT` (default
   * 120 s). The deadline holds across re-sends; an item never written never times out.
   */
  readonly itemTimeoutMs?: number;
  /** An empty keepalive request is written after this long without a write (default 15 s; 0: never). */
  readonly keepaliveMs?: number;
  /** After the half-close, how long to wait for the server to end the call before cancelling it (default 10 s). */
  readonly closeTimeoutMs?: number;
  /**
   * While images written on the stream wait for their outputs, no response for this long means the
   * stream has stalled: it is cancelled and opened again, the images re-sent (default 30 s; 0: never).
   */
  readonly stallTimeoutMs?: number;
  /**
   * Reconnect policy for a broken or stalled stream (default {@link DEFAULT_RECONNECT_POLICY}: a 120 s
   * budget, delays of at most 5 s). The budget starts at the first break and is reset only by an
   * output for one of this subscription's own images on a new stream.
   */
  readonly reconnect?: Partial<RetryPolicy>;
  /** Emit outcomes in input order instead of as they come (default false). */
  readonly ordered?: boolean;
  /** Send items whose output failed with a retryable error again under this policy (default: never). */
  readonly retry?: Partial<RetryPolicy>;
  /** Receives progress and diagnostic events. */
  readonly events?: Partial<Observer<ClassifyEvent>>;
  /** Receives the outputs of other clients on the same deployment, as they arrived. */
  readonly foreign?: Partial<Observer<ClassificationOutput>>;
  /** Source of time for timeouts, keepalives and backoff (default `asyncScheduler`). */
  readonly scheduler?: SchedulerLike;
  /** Source of backoff jitter in [0, 1) (default `Math.random`). */
  readonly random?: () => number;
  /**
   * A span `athena.image` per image, linked to the stream spans it was written on (default false: only
   * stream spans). An image whose source traces it keeps that trace, from its read; for one without,
   * the span runs from intake to outcome. Either way the wait for its output is `athena.image.wait`.
   */
  readonly traceImages?: boolean;
  /** Put each image's `ref` on its span as `athena.ref` (default false: refs can be private paths or URLs). */
  readonly traceRefs?: boolean;
}

/** The validated options with their defaults filled in. */
export interface ClassifyConfig {
  readonly deploymentId: string;
  readonly affiliate: string;
  readonly maxInFlight: number;
  readonly itemTimeoutMs: number;
  readonly keepaliveMs: number;
  readonly closeTimeoutMs: number;
  readonly stallTimeoutMs: number;
  readonly reconnect: RetryPolicy;
  readonly retry: RetryPolicy | undefined;
  readonly ordered: boolean;
  readonly emit: (event: ClassifyEvent) => void;
  readonly foreign: (output: ClassificationOutput) => void;
  readonly scheduler: SchedulerLike;
  readonly random: () => number;
  readonly telemetry: TelemetrySetup;
  readonly traceImages: { readonly images: boolean; readonly refs: boolean };
}

/** Checks the options of `classify` when the operator is created; throws TypeError/RangeError. */
export function classifyConfig(options: ClassifyOptions): ClassifyConfig {
  if (typeof options !== 'object' || options === null) throw new TypeError('classify options are required');
  const deploymentId = assertString('deploymentId', options.deploymentId);
  if (deploymentId.length > MAX_ID_LENGTH) {
    throw new RangeError(
      `deploymentId must be at most ${MAX_ID_LENGTH} characters, got ${deploymentId.length}`,
    );
  }
  const { events, foreign } = options;
  return {
    deploymentId,
    affiliate: assertString('affiliate', options.affiliate),
    maxInFlight: assertInteger('maxInFlight', options.maxInFlight ?? 256, 1),
    itemTimeoutMs: assertNumber('itemTimeoutMs', options.itemTimeoutMs ?? 120_000, 1, MAX_TIMER_MS),
    keepaliveMs: assertNumber('keepaliveMs', options.keepaliveMs ?? 15_000, 0, MAX_TIMER_MS),
    closeTimeoutMs: assertNumber('closeTimeoutMs', options.closeTimeoutMs ?? 10_000, 0, MAX_TIMER_MS),
    stallTimeoutMs: assertNumber('stallTimeoutMs', options.stallTimeoutMs ?? 30_000, 0, MAX_TIMER_MS),
    reconnect: retryPolicy({ ...DEFAULT_RECONNECT_POLICY, ...options.reconnect }),
    retry: options.retry === undefined ? undefined : retryPolicy(options.retry),
    ordered: options.ordered ?? false,
    emit: (event) => guarded(() => events?.next?.(event)),
    foreign: (output) => guarded(() => foreign?.next?.(output)),
    scheduler: options.scheduler ?? asyncScheduler,
    random: assertFunction<() => number>('random', options.random ?? Math.random),
    telemetry: telemetrySetup(options),
    traceImages: {
      images: assertBoolean('traceImages', options.traceImages ?? false),
      refs: assertBoolean('traceRefs', options.traceRefs ?? false),
    },
  };
}

/**
 * Runs a user's observer so that what it throws cannot break the session: the error is reported the
 * way RxJS reports an error no one handles (`config.onUnhandledError`, else thrown from a timer).
 */
function guarded(notify: () => void): void {
  try {
    notify();
  } catch (error) {
    const report = rxConfig.onUnhandledError;
    if (report) report(error);
    else
      setTimeout(() => {
        throw error;
      });
  }
}
