import { type ClassificationOutput } from '../generated/athena/models.js';

/** The delivery side of one Classify stream, as a deployment sees it. */
export interface Outlet {
  /** Sends what it can; returns the outputs it did not send (it was reset or has ended). */
  send(outputs: readonly ClassificationOutput[]): readonly ClassificationOutput[];
  /** Told after a {@link DeploymentRegistry.flush} (a stall was lifted). */
  resume?(): void;
}

/** A deployment as `ListDeployments` and the server's `deployments()` report it. */
export interface DeploymentInfo {
  readonly deploymentId: string;
  /** Pending work: inputs not yet answered plus outputs waiting for a stream. */
  readonly backlog: number;
  /** Inputs being processed. */
  readonly inFlight: number;
  /** Outputs waiting for a stream of the deployment to connect. */
  readonly queued: number;
  /** Classify streams connected to it. */
  readonly streams: number;
}

interface Deployment {
  readonly id: string;
  readonly outlets: Outlet[];
  queue: { output: ClassificationOutput; expiresAt: number }[];
  inFlight: number;
  lastActive: number;
  next: number;
  /** Correlation ids seen, oldest first, with when they stop counting as duplicates. */
  readonly seen: Map<string, number>;
}

/** Settings of a {@link DeploymentRegistry}. */
export interface RegistryOptions {
  /** How long an output waits for a stream (ms); also how long a correlation id is remembered. */
  readonly outputTtlMs: number;
  /** How long a deployment without streams, work or requests lives (ms). */
  readonly idleTtlMs: number;
  /** Most correlation ids remembered per deployment for duplicate counting. */
  readonly maxSeenIds?: number;
  /** Clock in epoch milliseconds (default `Date.now`). */
  readonly now?: () => number;
  /** Told how many queued outputs were discarded unsent. */
  readonly onExpired?: (count: number) => void;
}

/** The deployments of one server: shared output queues, round-robin delivery, expiry. */
export interface DeploymentRegistry {
  /** Marks activity; creates the deployment if new and says so. */
  touch(id: string): boolean;
  /** Connects a stream; queued outputs are delivered at once. */
  attach(id: string, outlet: Outlet): void;
  /** Disconnects a stream; the deployment stays, with its queue. */
  detach(id: string, outlet: Outlet): void;
  /** Counts inputs as in flight (`delta` > 0) or done (`delta` < 0). */
  work(id: string, delta: number): void;
  /** Records correlation ids; returns how many were already seen. */
  remember(id: string, correlationIds: readonly string[]): number;
  /** Hands outputs to one connected stream after another (round robin), or queues them. */
  deliver(id: string, outputs: readonly ClassificationOutput[]): void;
  /** Every deployment, as it is now (call `sweep()` first for fresh expiry). */
  list(): DeploymentInfo[];
  /** Offers every queue to its connected streams again (after a stall), then tells them to resume. */
  flush(): void;
  /** Drops expired outputs and idle deployments. */
  sweep(): void;
  /** Forgets every deployment, queued outputs included. */
  clear(): void;
}

/** Creates an empty registry. */
export function createDeploymentRegistry(options: RegistryOptions): DeploymentRegistry {
  const { outputTtlMs, idleTtlMs, maxSeenIds = 100_000, now = Date.now, onExpired } = options;
  const deployments = new Map<string, Deployment>();

  const get = (id: string): Deployment => {
    let d = deployments.get(id);
    if (d === undefined) {
      d = { id, outlets: [], queue: [], inFlight: 0, lastActive: now(), next: 0, seen: new Map() };
      deployments.set(id, d);
    }
    d.lastActive = now();
    return d;
  };

  const deliver = (d: Deployment, outputs: readonly ClassificationOutput[]): void => {
    let rest = outputs;
    for (let tries = d.outlets.length; rest.length > 0 && tries > 0 && d.outlets.length > 0; tries--) {
      const outlet = d.outlets[d.next++ % d.outlets.length] as Outlet;
      rest = outlet.send(rest);
    }
    if (rest.length === 0) return;
    const expiresAt = now() + outputTtlMs;
    for (const output of rest) d.queue.push({ output, expiresAt });
  };

  const expire = (d: Deployment, t: number): void => {
    const before = d.queue.length;
    d.queue = d.queue.filter((q) => q.expiresAt > t);
    if (d.queue.length < before) onExpired?.(before - d.queue.length);
    for (const [cid, until] of d.seen) {
      if (until > t) break;
      d.seen.delete(cid);
    }
  };

  return {
    touch: (id) => {
      const created = !deployments.has(id);
      get(id);
      return created;
    },
    attach: (id, outlet) => {
      const d = get(id);
      d.outlets.push(outlet);
      expire(d, now());
      const queued = d.queue.map((q) => q.output);
      d.queue = [];
      if (queued.length > 0) deliver(d, queued);
    },
    detach: (id, outlet) => {
      const d = deployments.get(id);
      if (d === undefined) return;
      const i = d.outlets.indexOf(outlet);
      if (i >= 0) d.outlets.splice(i, 1);
      d.lastActive = now();
    },
    work: (id, delta) => {
      const d = get(id);
      d.inFlight = Math.max(0, d.inFlight + delta);
    },
    remember: (id, correlationIds) => {
      const d = get(id);
      const until = now() + outputTtlMs;
      let duplicates = 0;
      for (const cid of correlationIds) {
        if (d.seen.delete(cid)) duplicates++;
        d.seen.set(cid, until);
        if (d.seen.size > maxSeenIds) d.seen.delete(d.seen.keys().next().value as string);
      }
      return duplicates;
    },
    deliver: (id, outputs) => deliver(get(id), outputs),
    list: () =>
      [...deployments.values()].map((d) => ({
        deploymentId: d.id,
        backlog: d.inFlight + d.queue.length,
        inFlight: d.inFlight,
        queued: d.queue.length,
        streams: d.outlets.length,
      })),
    flush: () => {
      for (const d of deployments.values()) {
        expire(d, now());
        const queued = d.queue.map((q) => q.output);
        d.queue = [];
        if (queued.length > 0) deliver(d, queued);
        for (const outlet of [...d.outlets]) outlet.resume?.();
      }
    },
    sweep: () => {
      const t = now();
      for (const d of deployments.values()) {
        expire(d, t);
        if (d.outlets.length === 0 && d.inFlight === 0 && t - d.lastActive >= idleTtlMs) {
          deployments.delete(d.id);
          if (d.queue.length > 0) onExpired?.(d.queue.length);
        }
      }
    },
    clear: () => deployments.clear(),
  };
}
