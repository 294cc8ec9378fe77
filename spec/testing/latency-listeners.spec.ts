import { afterEach, describe, expect, it } from 'vitest';
import { startAthenaServer, type AthenaServer } from '../../src/testing/server.js';
import { classifySingle, connect, openStream, rawInput, request } from './helpers.js';

let server: AthenaServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('latency fault', () => {
  it('delays many answers at once without a MaxListenersExceededWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      server = await startAthenaServer({ faults: { latencyMs: 100 } });
      const client = connect(server.address);
      const s = openStream(client);
      for (let i = 0; i < 30; i++) s.send(request('dep', [rawInput(`l${i}`)]));
      const singles = Array.from({ length: 15 }, (_, i) => classifySingle(client, rawInput(`s${i}`)));
      await s.waitForOutputs(30, 10_000);
      expect((await Promise.all(singles)).every((o) => o.error === undefined)).toBe(true);
      s.call.end();
      await s.ended;
      client.close();
      // 'warning' is emitted on the next tick after the listener that crossed the limit.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual(
      [],
    );
  });
});
