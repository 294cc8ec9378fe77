/** The figures a progress tracker reports: plain data, never printed by the library. */
import { type FailureStage } from '../../model.js';

/** Where a tracked run stands. */
export type ProgressStatus = 'idle' | 'running' | 'complete' | 'error' | 'cancelled';

/** Live figures of one run. Every field is a number or a plain record; nothing here is printed. */
export interface ProgressSnapshot {
  readonly status: ProgressStatus;
  /** Inputs counted at the start of the pipeline (a batch counts its images). */
  readonly submitted: number;
  /** Submitted inputs without an outcome yet. */
  readonly inFlight: number;
  /** Outcomes so far: classified + failed. */
  readonly completed: number;
  readonly classified: number;
  readonly failed: number;
  /** Failures by stage (`decode`, `classify`, `timeout`, ...). */
  readonly failedByStage: Readonly<Partial<Record<FailureStage, number>>>;
  /** Failures by code (`MODEL_ERROR`, `DECODE_FAILED`, `UNKNOWN_42`, ...). */
  readonly failedByCode: Readonly<Record<string, number>>;
  /** Requests written to the service, the images in them and their image bytes. */
  readonly requestsSent: number;
  readonly itemsSent: number;
  readonly bytesSent: number;
  /** Images written again after a reconnect. */
  readonly resent: number;
  /** Failed images sent again under a retry policy. */
  readonly retries: number;
  readonly reconnects: number;
  /** Streams cancelled and opened again because they gave no response while images waited. */
  readonly stalls: number;
  readonly keepalives: number;
  readonly globalErrors: number;
  /** Outputs for other clients on the same deployment, and duplicate outputs dropped. */
  readonly foreign: number;
  readonly duplicates: number;
  /** Outcomes per second over the sliding window. */
  readonly ratePerSecond: number;
  /** Time since the run started, frozen when it ends. */
  readonly elapsedMs: number;
  /** The expected number of inputs, when known. */
  readonly total?: number;
  /** `completed / total`, when the total is known (may pass 1 if the total was an estimate). */
  readonly fraction?: number;
  /** Estimated time left from the current rate, when the total is known and the rate is above 0. */
  readonly etaMs?: number;
}
