/**
 * Timing one step of an image onto its trace (see `ImageTrace`): the operators before `classify`
 * wrap their per-image work in {@link tracedStep}, which costs a branch for an image without a trace.
 */
import { defer, tap, type Observable } from 'rxjs';
import { AthenaError } from '../../errors.js';
import type { ImagePhase, ImageTrace } from '../../telemetry/options.js';

/**
 * `work$`, recording on `trace` the step `phase` from subscription to its first value (a failure's
 * code when that value is an `ItemFailure`) or its error. An unsubscribed step records nothing.
 */
export function tracedStep<T>(
  trace: ImageTrace | undefined,
  phase: ImagePhase,
  work$: Observable<T>,
): Observable<T> {
  if (trace === undefined) return work$;
  return defer(() => {
    const startedAt = trace.now();
    let recorded = false;
    const record = (error?: string) => {
      if (recorded) return;
      recorded = true;
      trace.phase(phase, startedAt, error);
    };
    return work$.pipe(
      tap({
        next: (value) => record(failureCode(value)),
        error: (error: unknown) => record(AthenaError.from(error, 'UNKNOWN').code),
      }),
    );
  });
}

function failureCode(value: unknown): string | undefined {
  const failure = value as { kind?: unknown; error?: { code?: unknown } } | null;
  return failure?.kind === 'failure' && typeof failure.error?.code === 'string'
    ? failure.error.code
    : undefined;
}
