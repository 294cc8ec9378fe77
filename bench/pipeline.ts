import { lastValueFrom, reduce, type Observable, type OperatorFunction } from 'rxjs';
import { type ItemOrFailure, type Outcome } from '../src/model.js';
import { batch } from '../src/operators/batch.js';
import { classify } from '../src/operators/classify.js';
import { correlate } from '../src/operators/correlate.js';
import { type ImageTelemetryOptions } from '../src/telemetry/options.js';
import { AthenaClient } from '../src/transport/AthenaClient.js';

/** What a run ended with. */
export interface Tally {
  /** Outcomes that are not failures (classified images, or prepared items where nothing classifies). */
  readonly ok: number;
  readonly failed: number;
  /** The first failure's stage, code and message, to show in the report when something failed. */
  readonly firstFailure?: string;
}

export const BENCH_AFFILIATE = 'bench';
export const BATCH_SIZE = 32;
export const BATCH_WAIT_MS = 50;

/** A plaintext client of the server process. */
export function benchClient(address: string): AthenaClient {
  return new AthenaClient({ address, insecure: true });
}

/** `correlate` -> `batch` -> `classify`, the transport half of every pipeline in the benchmark. */
export function classifyTail(
  client: AthenaClient,
  deploymentId: string,
  batchSize = BATCH_SIZE,
  telemetry: ImageTelemetryOptions = {},
): OperatorFunction<ItemOrFailure, Outcome> {
  return (items$) =>
    items$.pipe(
      correlate(),
      batch({ size: batchSize, maxWaitMs: BATCH_WAIT_MS }),
      classify(client, { deploymentId, affiliate: BENCH_AFFILIATE, ...telemetry }),
    );
}

/** Subscribes, counts outcomes (keeping none) and resolves when the stream completes. */
export function tally(outcomes$: Observable<Outcome | ItemOrFailure>): Promise<Tally> {
  return lastValueFrom(
    outcomes$.pipe(
      reduce<Outcome | ItemOrFailure, Tally>(
        (t, o) => {
          if (o.kind === 'failure') {
            const firstFailure = t.firstFailure ?? `${o.stage} ${o.error.code}: ${o.error.message}`;
            return { ...t, failed: t.failed + 1, firstFailure };
          }
          return { ...t, ok: t.ok + 1 };
        },
        { ok: 0, failed: 0 },
      ),
    ),
  );
}

/** A deployment id not used before by this process. */
export function deploymentFor(step: string): string {
  return `bench-${step}-${process.pid}-${Date.now().toString(36)}`;
}
