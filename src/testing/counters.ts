import { ErrorCode } from '../generated/athena/models.js';

/**
 * What the embedded server received and sent since it started (or since `resetCounters()`).
 * A snapshot: read `server.counters` again for fresh figures.
 */
export interface AthenaServerCounters {
  /** Classify calls received, refused ones included. */
  readonly streamsOpened: number;
  /** Classify calls open right now. */
  readonly streamsActive: number;
  /** Classify calls refused with `UNAVAILABLE` (fault `unavailableForMs`). */
  readonly streamsRefused: number;
  /** Classify calls ended with `INVALID_ARGUMENT` (a request changed the deployment id). */
  readonly streamsAborted: number;
  /** Calls of any RPC refused with `UNAUTHENTICATED`. */
  readonly unauthenticated: number;
  /** Classify requests with at least one input. */
  readonly requests: number;
  /** Classify requests without inputs (application keepalives); never answered. */
  readonly keepalives: number;
  /** Inputs received on Classify streams. */
  readonly inputs: number;
  /** Bytes of `data` received on Classify streams, as sent (compressed or not). */
  readonly inputBytes: number;
  /** Outputs sent on Classify streams. */
  readonly outputs: number;
  /** `ClassifyResponse` messages sent, global errors included. */
  readonly responses: number;
  /** Output errors sent (Classify and ClassifySingle), by `ErrorCode` name without `ERROR_CODE_`. */
  readonly errorsByCode: Readonly<Record<string, number>>;
  /** Responses sent with `global_error`. */
  readonly globalErrors: number;
  /** Streams reset with `INTERNAL ... RST_STREAM` (fault `resetAfterOutputs`). */
  readonly resets: number;
  /** Outputs dropped on purpose (fault `dropRate`). */
  readonly dropped: number;
  /** Queued outputs discarded after `outputTtlMs`, or with their deployment after its idle TTL. */
  readonly expired: number;
  /**
   * Inputs whose correlation id the deployment had already seen (processed again all the same).
   * Each deployment remembers its last 100,000 ids, each for `outputTtlMs`.
   */
  readonly duplicateCorrelationIds: number;
  /** Unary calls received (ListDeployments and ClassifySingle), refused ones included. */
  readonly unaryCalls: number;
  /** ListDeployments calls received. */
  readonly listDeploymentsCalls: number;
  /** ClassifySingle calls received. */
  readonly classifySingleCalls: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The server's mutable counters; `snapshot()` copies them for callers. */
export interface CounterBoard {
  readonly c: Mutable<Omit<AthenaServerCounters, 'errorsByCode'>>;
  countError(code: ErrorCode): void;
  snapshot(): AthenaServerCounters;
  reset(): void;
}

/** Creates zeroed counters. */
export function createCounters(): CounterBoard {
  const zero = () => ({
    streamsOpened: 0,
    streamsActive: 0,
    streamsRefused: 0,
    streamsAborted: 0,
    unauthenticated: 0,
    requests: 0,
    keepalives: 0,
    inputs: 0,
    inputBytes: 0,
    outputs: 0,
    responses: 0,
    globalErrors: 0,
    resets: 0,
    dropped: 0,
    expired: 0,
    duplicateCorrelationIds: 0,
    unaryCalls: 0,
    listDeploymentsCalls: 0,
    classifySingleCalls: 0,
  });
  const c = zero();
  let errors: Record<string, number> = {};
  return {
    c,
    countError: (code) => {
      const name = errorCodeName(code);
      errors[name] = (errors[name] ?? 0) + 1;
    },
    snapshot: () => Object.freeze({ ...c, errorsByCode: Object.freeze({ ...errors }) }),
    reset: () => {
      // Open streams stay open: keep that figure.
      Object.assign(c, zero(), { streamsActive: c.streamsActive });
      errors = {};
    },
  };
}

/** `ERROR_CODE_MODEL_ERROR` -> `MODEL_ERROR`; numbers the enum does not know stay numbers. */
export function errorCodeName(code: ErrorCode): string {
  const name = (ErrorCode as unknown as Record<number, string | undefined>)[code];
  return name === undefined || code === ErrorCode.UNRECOGNIZED
    ? String(code)
    : name.replace(/^ERROR_CODE_/, '');
}
