import { describe, expect, it } from 'vitest';
import { ClassificationOutput } from '../../src/generated/athena/models.js';
import { createDeploymentRegistry, type Outlet } from '../../src/testing/deployments.js';

const out = (id: string) => ClassificationOutput.fromPartial({ correlationId: id });
const ids = (outputs: readonly ClassificationOutput[]) => outputs.map((o) => o.correlationId);

/** An outlet that takes at most `capacity` outputs, recording them. */
function outlet(capacity = Infinity): Outlet & { got: string[] } {
  const got: string[] = [];
  return {
    got,
    send: (outputs) => {
      const n = Math.min(outputs.length, capacity - got.length);
      got.push(...ids(outputs.slice(0, n)));
      return outputs.slice(n);
    },
  };
}

function setup(outputTtlMs = 100, idleTtlMs = 1000) {
  let t = 0;
  let expired = 0;
  const registry = createDeploymentRegistry({
    outputTtlMs,
    idleTtlMs,
    maxSeenIds: 3,
    now: () => t,
    onExpired: (n) => (expired += n),
  });
  return { registry, advance: (ms: number) => (t += ms), expired: () => expired };
}

describe('createDeploymentRegistry', () => {
  it('delivers round robin and hands what one outlet refuses to the next', () => {
    const { registry } = setup();
    const a = outlet(3);
    const b = outlet();
    registry.attach('d', a);
    registry.attach('d', b);
    registry.deliver('d', [out('1')]);
    registry.deliver('d', [out('2')]);
    registry.deliver('d', [out('3'), out('4'), out('5')]);
    expect(a.got).toEqual(['1', '3', '4']);
    expect(b.got).toEqual(['2', '5']);
  });

  it('queues without outlets, delivers on attach, expires after the output TTL', () => {
    const { registry, advance, expired } = setup(100);
    registry.deliver('d', [out('early')]);
    advance(60);
    registry.deliver('d', [out('late')]);
    expect(registry.list()).toEqual([{ deploymentId: 'd', backlog: 2, inFlight: 0, queued: 2, streams: 0 }]);
    advance(50);
    registry.sweep();
    expect(expired()).toBe(1);
    const a = outlet();
    registry.attach('d', a);
    expect(a.got).toEqual(['late']);
    expect(registry.list()[0]?.backlog).toBe(0);
  });

  it('counts in-flight work as backlog and keeps busy or connected deployments alive', () => {
    const { registry, advance } = setup(100, 200);
    registry.work('busy', 4);
    const a = outlet();
    registry.attach('connected', a);
    registry.touch('idle');
    advance(300);
    registry.sweep();
    expect(registry.list().map((d) => [d.deploymentId, d.backlog])).toEqual([
      ['busy', 4],
      ['connected', 0],
    ]);
    registry.work('busy', -4);
    registry.detach('connected', a);
    advance(199);
    registry.sweep();
    expect(registry.list()).toHaveLength(2);
    advance(1);
    registry.sweep();
    expect(registry.list()).toEqual([]);
  });

  it('counts correlation ids seen before, per deployment, within a bounded memory', () => {
    const { registry, advance } = setup(100);
    expect(registry.remember('d', ['a', 'b', 'a'])).toBe(1);
    expect(registry.remember('e', ['a'])).toBe(0);
    expect(registry.remember('d', ['c', 'd'])).toBe(0); // 'b' is evicted (max 3)
    expect(registry.remember('d', ['b', 'd'])).toBe(1);
    advance(150);
    registry.sweep();
    expect(registry.remember('d', ['d'])).toBe(0);
    expect(registry.touch('d')).toBe(false);
    expect(registry.touch('new')).toBe(true);
  });
});
