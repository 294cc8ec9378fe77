/**
 * The athena-rx/angular entry point: classify images in an Angular application through the
 * application's own back end (`AthenaGatewayModule` of `athena-rx/nest`). Node-free; needs only
 * `@angular/core` (an optional peer) and declares its service without decorators, so applications
 * compiled ahead of time use it as it is.
 *
 * @module athena-rx/angular
 */
import { InjectionToken, makeEnvironmentProviders, type EnvironmentProviders } from '@angular/core';
import { from, type Observable, type ObservableInput, type OperatorFunction } from 'rxjs';
import { classifyVia, type ClassifyViaOptions, type ViaInput } from '../browser/classify-via.js';
import type { Outcome } from '../model.js';

export type { ClassifyViaOptions, ViaInput };

/** What {@link provideAthena} takes. */
export interface AthenaAngularConfig {
  /** The gateway's `ws:` or `wss:` URL, such as `wss://app.example/athena`. */
  readonly gatewayUrl: string;
  /** Options of `classifyVia` (in-flight images, timeouts, reconnect policy...). */
  readonly options?: ClassifyViaOptions;
}

/** Injection token of the configuration given to {@link provideAthena}. */
export const ATHENA_CONFIG = new InjectionToken<AthenaAngularConfig>('athena-rx config');

/**
 * Classifies prepared images through the gateway. Each call of {@link AthenaService.classify} is a
 * cold Observable: subscribing opens its own socket, unsubscribing closes it.
 */
export class AthenaService {
  private readonly operator: OperatorFunction<ViaInput, Outcome>;

  constructor(config: AthenaAngularConfig) {
    this.operator = classifyVia(config.gatewayUrl, config.options);
  }

  /** One outcome per input image (see `classifyVia`). */
  classify(images: ObservableInput<ViaInput>): Observable<Outcome> {
    return from(images).pipe(this.operator);
  }

  /** The operator itself, to put in a pipeline of one's own. */
  classifier(): OperatorFunction<ViaInput, Outcome> {
    return this.operator;
  }
}

/**
 * Provides {@link AthenaService} to an Angular application (`bootstrapApplication(App, { providers:
 * [provideAthena({ gatewayUrl })] })`); the URL and options are checked here, at call time.
 *
 * @example
 * ```ts
 * import { provideAthena } from 'athena-rx/angular';
 *
 * bootstrapApplication(AppComponent, {
 *   providers: [provideAthena({ gatewayUrl: `wss://${location.host}/athena` })],
 * });
 * ```
 *
 * @throws TypeError or RangeError when the URL or an option is invalid.
 */
export function provideAthena(config: AthenaAngularConfig): EnvironmentProviders {
  if (typeof config !== 'object' || config === null)
    throw new TypeError('provideAthena needs { gatewayUrl }');
  const service = new AthenaService(config);
  return makeEnvironmentProviders([
    { provide: ATHENA_CONFIG, useValue: config },
    { provide: AthenaService, useValue: service },
  ]);
}
