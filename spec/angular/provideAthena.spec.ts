import { createEnvironmentInjector, Injector, type EnvironmentInjector } from '@angular/core';
import { asyncScheduler, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ATHENA_CONFIG, AthenaService, provideAthena } from '../../src/angular/index.js';
import { item, scriptedGateway } from '../internal/via/helpers.js';

describe('provideAthena', () => {
  it('provides an AthenaService whose classify runs classifyVia over the configured gateway', async () => {
    const gateway = scriptedGateway(asyncScheduler, { helloAfter: 1, answerAfter: 1 });
    const config = { gatewayUrl: 'ws://127.0.0.1:9/athena', options: { webSocket: gateway.factory } };
    const injector = createEnvironmentInjector([provideAthena(config)], Injector.NULL as EnvironmentInjector);
    const service = injector.get(AthenaService);
    expect(injector.get(ATHENA_CONFIG)).toBe(config);
    const outcomes = await lastValueFrom(service.classify([item('a'), item('b'), item('c')]).pipe(toArray()));
    expect(outcomes.map((o) => (o.ok ? o.labels : o.stage))).toEqual([
      { 'L-a': 1 },
      { 'L-b': 1 },
      { 'L-c': 1 },
    ]);
    expect(gateway.log).toEqual(['1>a', '1>b', '1>c', '1:close']);
    injector.destroy();
  });

  it('checks the gateway URL when called', () => {
    expect(() => provideAthena({ gatewayUrl: 'https://app.example/athena' })).toThrow(RangeError);
    expect(() => provideAthena(undefined as never)).toThrow(TypeError);
  });
});
