/**
 * `AthenaHealthIndicator`: the Athena service as a `@nestjs/terminus` health indicator, written
 * without importing terminus (not a dependency of athena-rx), for terminus 10 and 11.
 */
import { Inject, Injectable } from '@nestjs/common';
import { firstValueFrom } from 'rxjs';
import { AthenaError } from '../errors.js';
import { AthenaClient } from '../transport/AthenaClient.js';
import { checkHealth, type CheckHealthOptions, type HealthReport } from '../transport/health.js';

/** What an indicator reports under its key: terminus' `HealthIndicatorResult` shape. */
export type AthenaHealthIndicatorResult<Key extends string = string> = Record<
  Key,
  { readonly status: 'up' | 'down' } & Omit<HealthReport, 'healthy'>
>;

/** Options of one check: `deep`, `timeoutMs` and `affiliate` of `checkHealth`. */
export type AthenaHealthCheckOptions = Pick<CheckHealthOptions, 'deep' | 'timeoutMs' | 'affiliate'>;

/** An `AthenaError` (`UNAVAILABLE`) shaped like terminus' `HealthCheckError`: it carries `causes`. */
export type AthenaHealthCheckError = AthenaError & {
  readonly causes: AthenaHealthIndicatorResult;
  readonly isHealthCheckError: true;
};

/**
 * Checks the application's `AthenaClient` with `checkHealth` and reports the result in terminus'
 * shape, `{ [key]: { status: 'up' | 'down', ...report } }`. Provided and exported by `AthenaModule`.
 *
 * - terminus 11 reads a returned `status: 'down'` as unhealthy: use {@link AthenaHealthIndicator.isHealthy},
 *   which never throws.
 * - terminus 10 counts only thrown errors carrying `causes` (its `HealthCheckError`) as unhealthy: use
 *   {@link AthenaHealthIndicator.assertHealthy}, which throws such an error when the service is down.
 *
 * @example
 * ```ts
 * import { Controller, Get } from '@nestjs/common';
 * import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
 * import { AthenaHealthIndicator } from 'athena-rx/nest';
 *
 * @Controller('health')
 * export class HealthController {
 *   constructor(private readonly health: HealthCheckService, private readonly athena: AthenaHealthIndicator) {}
 *
 *   @Get()
 *   @HealthCheck()
 *   check() {
 *     return this.health.check([() => this.athena.isHealthy('athena')]);
 *   }
 * }
 * ```
 */
@Injectable()
export class AthenaHealthIndicator {
  constructor(@Inject(AthenaClient) private readonly client: AthenaClient) {}

  /** Runs the check and reports it under `key` (default `athena`); never throws for an unhealthy service. */
  async isHealthy<Key extends string = 'athena'>(
    key: Key = 'athena' as Key,
    options: AthenaHealthCheckOptions = {},
  ): Promise<AthenaHealthIndicatorResult<Key>> {
    const { healthy, ...report } = await firstValueFrom(checkHealth(this.client, options));
    return { [key]: { status: healthy ? 'up' : 'down', ...report } } as AthenaHealthIndicatorResult<Key>;
  }

  /**
   * The same result when the service is healthy; otherwise throws an {@link AthenaHealthCheckError}
   * whose `causes` is that result (terminus 10's convention for an unhealthy indicator).
   */
  async assertHealthy<Key extends string = 'athena'>(
    key: Key = 'athena' as Key,
    options: AthenaHealthCheckOptions = {},
  ): Promise<AthenaHealthIndicatorResult<Key>> {
    const result = await this.isHealthy(key, options);
    if (result[key].status === 'up') return result;
    throw Object.assign(
      new AthenaError('UNAVAILABLE', `${key}: the Athena service at ${result[key].address} is unhealthy`),
      { causes: result, isHealthCheckError: true as const },
    );
  }
}
