/**
 * `checkHealth`: is an Athena service usable from here? The channel connects and a token can be had
 * (each reported on its own, with its latency), and on request a ClassifySingle of a built-in image
 * comes back well formed. One typed report; an unhealthy service is an answer, never an error.
 */
import {
  type Observable,
  type SchedulerLike,
  asyncScheduler,
  catchError,
  concatMap,
  defaultIfEmpty,
  defer,
  forkJoin,
  map,
  of,
  take,
  throwError,
  throwIfEmpty,
  timeout,
} from 'rxjs';
import { AthenaError } from '../errors.js';
import { probeAnswerProblem, probeInput } from '../internal/health/probe.js';
import { scrubText } from '../internal/secrets/scrub.js';
import { assertInteger, assertString } from '../internal/core/validate.js';
import type { ClassifySingleClient } from './contracts.js';

/** What `checkHealth` needs of a client; `AthenaClient` has it. */
export interface HealthCheckTarget extends ClassifySingleClient {
  readonly address: string;
  probeConnection(timeoutMs: number): Observable<void>;
  probeToken(): Observable<{ readonly expiresAt: number } | undefined>;
}

export interface CheckHealthOptions {
  /** Also classify a built-in 448x448 image with ClassifySingle and check the answer (default false). */
  readonly deep?: boolean;
  /** Bound of the whole check in ms; a part still running then is `down` with `DEADLINE_EXCEEDED` (default 10 000). */
  readonly timeoutMs?: number;
  /** Affiliate of the deep check's request (default `athena-rx-health`). */
  readonly affiliate?: string;
  /** Scheduler of the timeout and the latency clock (default `asyncScheduler`). */
  readonly scheduler?: SchedulerLike;
}

/** `up`, `down`, or `skipped` (not configured, not asked for, or moot after an earlier part failed). */
export type HealthStatus = 'up' | 'down' | 'skipped';

/** One part of a {@link HealthReport}. */
export interface HealthCheck {
  readonly status: HealthStatus;
  /** Time the part took, in ms (absent when skipped). */
  readonly latencyMs?: number;
  /** The `AthenaError` code when down. */
  readonly code?: string;
  /** Why it is down or skipped; never holds a secret. */
  readonly message?: string;
}

export interface HealthReport {
  /** The channel is up, the token not down, and the deep check (when asked for) up. */
  readonly healthy: boolean;
  readonly address: string;
  readonly deep: boolean;
  /** Time the whole check took, in ms. */
  readonly latencyMs: number;
  /** The channel connected (no call made). */
  readonly connection: HealthCheck;
  /** A token could be had, with its expiry in epoch ms; `skipped` without credentials. */
  readonly token: HealthCheck & { readonly expiresAt?: number };
  /** The deep check: a well-formed ClassifySingle answer, with the number of labels it carried. */
  readonly classify: HealthCheck & { readonly labels?: number };
}

const DEFAULT_TIMEOUT_MS = 10_000;

let probes = 0;

/**
 * Checks a service through `client` and emits one {@link HealthReport}, then completes; never errors
 * for an unhealthy service. Shallow: the channel connects and a token can be had, checked at the same
 * time. Deep (`deep: true`): then a ClassifySingle of a built-in raw BGR image, whose answer must echo
 * its correlation id and carry named labels with finite, non-negative weights. Everything ends within `timeoutMs`.
 *
 * @example
 * ```ts
 * import { firstValueFrom } from 'rxjs';
 * import { checkHealth } from 'athena-rx/transport';
 *
 * const report = await firstValueFrom(checkHealth(client, { deep: true }));
 * if (!report.healthy) console.error(report);
 * ```
 */
export function checkHealth(
  client: HealthCheckTarget,
  options: CheckHealthOptions = {},
): Observable<HealthReport> {
  if (typeof client?.probeConnection !== 'function' || typeof client.probeToken !== 'function') {
    throw new TypeError('checkHealth needs an AthenaClient');
  }
  const deep = options.deep === true;
  const timeoutMs = assertInteger('timeoutMs', options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 1);
  const affiliate = assertString('affiliate', options.affiliate ?? 'athena-rx-health');
  const scheduler = options.scheduler ?? asyncScheduler;

  return defer(() => {
    const start = scheduler.now();
    const left = () => Math.max(1, start + timeoutMs - scheduler.now());
    const part: Part = (work, up) =>
      defer(() => {
        const began = scheduler.now();
        const elapsed = () => scheduler.now() - began;
        const limit = left();
        return defer(work).pipe(
          take(1),
          defaultIfEmpty(undefined),
          timeout({
            first: limit,
            scheduler,
            with: () =>
              throwError(() => new AthenaError('DEADLINE_EXCEEDED', `no answer within ${limit} ms`)),
          }),
          map((value): DetailedCheck => ({ status: 'up', latencyMs: elapsed(), ...up(value) })),
          catchError((error: unknown) => of<DetailedCheck>(down(error, elapsed()))),
        );
      });

    const connection$ = part(
      () => client.probeConnection(left()),
      () => ({}),
    );
    const token$ = part(
      () => client.probeToken(),
      (token) => (token === undefined ? {} : { expiresAt: token.expiresAt }),
    ).pipe(
      map((check): HealthReport['token'] =>
        check.status === 'up' && check.expiresAt === undefined
          ? { status: 'skipped', message: 'no credentials configured' }
          : check,
      ),
    );

    return forkJoin([connection$, token$]).pipe(
      concatMap(([connection, token]) => {
        const ready = connection.status === 'up' && token.status !== 'down';
        const classify$: Observable<HealthReport['classify']> = !deep
          ? of({ status: 'skipped', message: 'not asked for' })
          : !ready
            ? of({ status: 'skipped', message: 'the connection or the token is down' })
            : deepCheck(client, affiliate, left, part);
        return classify$.pipe(
          map((classify): HealthReport => ({
            healthy: ready && (!deep || classify.status === 'up'),
            address: client.address,
            deep,
            latencyMs: scheduler.now() - start,
            connection,
            token,
            classify,
          })),
        );
      }),
    );
  });
}

type DetailedCheck = HealthCheck & { readonly expiresAt?: number; readonly labels?: number };

/** Runs one part within the time left: `up` with its details, or `down` with the error's code. */
type Part = <T>(
  work: () => Observable<T>,
  up: (value: T | undefined) => Omit<DetailedCheck, 'status'>,
) => Observable<DetailedCheck>;

function deepCheck(
  client: HealthCheckTarget,
  affiliate: string,
  left: () => number,
  part: Part,
): Observable<HealthReport['classify']> {
  probes += 1;
  const correlationId = `athena-rx-health-${Date.now().toString(36)}-${probes}`;
  return part(
    () =>
      client.classifySingle(probeInput(affiliate, correlationId), { deadlineMs: left() }).pipe(
        map((output) => {
          const problem = probeAnswerProblem(output, correlationId);
          if (problem !== undefined) throw problem;
          return output.classifications.length;
        }),
        throwIfEmpty(() => new AthenaError('UNKNOWN', 'ClassifySingle ended without an answer')),
      ),
    (labels) => (labels === undefined ? {} : { labels }),
  );
}

function down(error: unknown, latencyMs: number): HealthCheck {
  const typed = AthenaError.from(error);
  return { status: 'down', latencyMs, code: typed.code, message: scrubText(typed.message) };
}
