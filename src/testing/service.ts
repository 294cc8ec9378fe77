import { status as Status } from '@grpc/grpc-js';
import { type SchedulerLike } from 'rxjs';
import { type ClassifierServiceServer } from '../generated/athena/athena.js';
import { assertNumber } from '../internal/core/validate.js';
import { createAuthorizer, type AthenaServerAuth } from './auth.js';
import { serveClassify } from './classify-stream.js';
import { type ServiceContext, type StreamAbort } from './context.js';
import { createCounters, type AthenaServerCounters } from './counters.js';
import { createDeploymentRegistry, type DeploymentInfo } from './deployments.js';
import { emitTo, type AthenaEventListener } from './events.js';
import { createFaultState, type AthenaFaults } from './faults.js';
import { randomSeed, seededRandom } from './prng.js';
import { createSleeper } from './sleeper.js';
import { serveClassifySingle, serveListDeployments } from './unary.js';

/** Behaviour of the embedded Athena service (everything but the network). */
export interface AthenaServiceOptions {
  /** Permitted affiliates; others get `AFFILIATE_NOT_PERMITTED`. Default: any non-empty affiliate. */
  readonly affiliates?: Iterable<string>;
  /** Known MD5/SHA1 hex digests (any case) that give `KnownCSAM-*` weight 1.0. Default: none. */
  readonly knownHashes?: Iterable<string>;
  /** Leave out the UnknownCSAM labels when a known hash matches (the service may). Default false. */
  readonly omitUnknownOnKnownMatch?: boolean;
  /** Token checks; default none (every call accepted). */
  readonly auth?: AthenaServerAuth;
  /** Faults active from the start; change them later with `setFaults`. Default none. */
  readonly faults?: AthenaFaults;
  /** Seed of the generator behind random faults; default a random seed. */
  readonly seed?: number;
  /** How long outputs wait for a stream of their deployment, in ms. Default 1 hour. */
  readonly outputTtlMs?: number;
  /** How long an idle deployment lives (no stream, no work, no request), in ms. Default 24 hours. */
  readonly deploymentIdleTtlMs?: number;
  /** Scheduler of the latency faults' delays (default `asyncScheduler`). */
  readonly scheduler?: SchedulerLike;
  /**
   * Called with one event per request received and per output sent (ids, formats, sizes and codes;
   * never image bytes, hashes or metadata), e.g. for a request log. Default none.
   */
  readonly onEvent?: AthenaEventListener;
}

/** The Athena service as a grpc-js implementation, with its controls. */
export interface AthenaService {
  /** Pass to `server.addService(ClassifierServiceService, implementation)`. */
  readonly implementation: ClassifierServiceServer;
  /** A snapshot of what was received and sent. */
  readonly counters: AthenaServerCounters;
  /** The faults in force. */
  readonly faults: AthenaFaults;
  /** The seed random faults draw from. */
  readonly seed: number;
  /** Changes faults at run time: merges `partial`; a key given as `undefined` switches it off. */
  setFaults(partial: AthenaFaults): void;
  /** Switches every fault off. */
  clearFaults(): void;
  /** Zeroes the counters (open streams stay counted as active). */
  resetCounters(): void;
  /** The deployments with their backlog, queue and connected streams. */
  deployments(): DeploymentInfo[];
  /**
   * Ends every open Classify call with a status (default `UNAVAILABLE`), as a restarting server
   * would; undelivered outputs stay queued. Returns how many calls were ended.
   */
  abortStreams(status?: { code: number; details: string }): number;
  /** Forgets every deployment: queued outputs and remembered correlation ids (as a fresh process would). */
  clearDeployments(): void;
  /** Ends open calls with `UNAVAILABLE`, wakes pending delays and stops the expiry timer. */
  dispose(): void;
}

const HOUR = 3_600_000;

/**
 * Creates the Athena service without a server, for adding to a grpc-js `Server` of your own (the CLI
 * and {@link startAthenaServer} use it).
 *
 * @param options - See {@link AthenaServiceOptions}; validated now (TypeError/RangeError).
 */
export function createAthenaService(options: AthenaServiceOptions = {}): AthenaService {
  const outputTtlMs = assertNumber('outputTtlMs', options.outputTtlMs ?? HOUR, 1);
  const idleTtlMs = assertNumber('deploymentIdleTtlMs', options.deploymentIdleTtlMs ?? 24 * HOUR, 1);
  const seed = options.seed === undefined ? randomSeed() : assertNumber('seed', options.seed, -Infinity);
  const counters = createCounters();
  const faults = createFaultState(options.faults ?? {}, seededRandom(seed));
  const registry = createDeploymentRegistry({
    outputTtlMs,
    idleTtlMs,
    onExpired: (n) => void (counters.c.expired += n),
  });
  const lifetime = new AbortController();
  const sleeper = createSleeper(options.scheduler);
  const streams = new Set<StreamAbort>();
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') {
    throw new TypeError('onEvent must be a function');
  }
  const ctx: ServiceContext = {
    counters,
    faults,
    registry,
    answer: {
      affiliates: options.affiliates === undefined ? undefined : stringSet('affiliates', options.affiliates),
      knownHashes: new Set(
        [...stringSet('knownHashes', options.knownHashes ?? [])].map((h) => h.toLowerCase()),
      ),
      omitUnknownOnKnownMatch: options.omitUnknownOnKnownMatch === true,
    },
    authorize: createAuthorizer(options.auth),
    streams,
    sleep: (ms) => sleeper.sleep(ms),
    disposed: () => lifetime.signal.aborted,
    emit: emitTo(options.onEvent),
  };
  const sweepEvery = Math.min(60_000, Math.max(10, Math.min(outputTtlMs, idleTtlMs) / 4));
  const timer = setInterval(() => registry.sweep(), sweepEvery);
  timer.unref();

  const abortStreams = (
    status = { code: Status.UNAVAILABLE, details: 'Server closing the stream' },
  ): number => {
    const open = [...streams];
    for (const abort of open) abort(status);
    return open.length;
  };

  return {
    implementation: {
      classify: (call) => serveClassify(call, ctx),
      listDeployments: serveListDeployments(ctx),
      classifySingle: serveClassifySingle(ctx),
    },
    get counters() {
      return counters.snapshot();
    },
    get faults() {
      return faults.current();
    },
    seed,
    setFaults: (partial) => {
      faults.set(partial);
      // Lifting (or moving) a stall delivers what the stalled streams kept on their deployments.
      if ('stall' in partial || 'stallAfterOutputs' in partial) registry.flush();
    },
    clearFaults: () => {
      faults.clear();
      registry.flush();
    },
    resetCounters: () => counters.reset(),
    deployments: () => {
      registry.sweep();
      return registry.list();
    },
    abortStreams,
    clearDeployments: () => registry.clear(),
    dispose: () => {
      if (lifetime.signal.aborted) return;
      abortStreams({ code: Status.UNAVAILABLE, details: 'Server shutting down' });
      lifetime.abort();
      sleeper.wakeAll();
      clearInterval(timer);
      registry.clear();
    },
  };
}

function stringSet(name: string, values: Iterable<string>): Set<string> {
  if (
    typeof values === 'string' ||
    values === null ||
    typeof (values as Partial<Iterable<string>>)[Symbol.iterator] !== 'function'
  ) {
    throw new TypeError(`${name} must be an iterable of strings`);
  }
  const out = new Set<string>();
  for (const v of values) {
    if (typeof v !== 'string') throw new TypeError(`${name} must contain only strings`);
    out.add(v);
  }
  return out;
}
