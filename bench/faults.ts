/**
 * The fault scenarios: for each, a fresh server process on one fixed loopback port and a fresh
 * client process; when a quarter of the images have their outcomes the client's source holds, the fault is
 * put in place (SIGKILL, a fault command, SIGSTOP), the source goes on, and the fault is undone on a
 * timer (a new server on the same port, the faults cleared, SIGCONT).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { type FaultJob, type FaultRun } from './faults-client.js';
import { startFaultServer, type FaultServer } from './fault-server.js';
import { freeLoopbackPort } from '../spec/support/http-server.js';
import { scriptArgs } from './paths.js';
import { deploymentFor } from './pipeline.js';

/** The scenarios, in the order they run. */
export const SCENARIOS = ['clean', 'restart-2s', 'restart-30s', 'stall', 'global-errors', 'stopped'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** One scenario as measured. */
export interface ScenarioResult {
  readonly name: ScenarioName;
  /** The fault and recovery actions, with the epoch ms they happened at. */
  readonly actions: readonly { readonly atMs: number; readonly what: string }[];
  readonly run?: FaultRun;
  /** Why there is no run (the client process failed or overran). */
  readonly failure?: string;
}

/** The fault section's figures. */
export interface FaultsResult {
  readonly images: number;
  readonly window: number;
  readonly port: number;
  readonly startedAt: string;
  readonly scenarios: ScenarioResult[];
}

/** Items `fromBuffers` may read ahead of their outcomes: classify's default `maxInFlight`. */
export const FAULT_WINDOW = 256;
/** A client process still running after this long is killed and its scenario reported as failed. */
const SCENARIO_LIMIT_MS = 10 * 60_000;

type Act = (server: Server, at: (what: string) => void) => { now?: Promise<void>; later: Promise<void> };
interface Server {
  current: FaultServer;
  restart(): Promise<void>;
}

const FAULTS: Record<ScenarioName, { before?: object; act?: Act }> = {
  clean: {},
  'restart-2s': { act: (s, at) => restartAfter(s, at, 2_000) },
  'restart-30s': { act: (s, at) => restartAfter(s, at, 30_000) },
  stall: {
    act: (s, at) => {
      const applied = s.current
        .command({ faults: { latencyMs: 60_000 } })
        .then(() => at('latencyMs 60000 set'));
      const later = applied.then(() => sleep(40_000)).then(() => s.current.command({ clear: true }));
      return { now: applied, later: later.then(() => at('faults cleared')) };
    },
  },
  'global-errors': { before: { faults: { globalError: { every: 1 } } } },
  stopped: {
    act: (s, at) => {
      s.current.signal('SIGSTOP');
      at('SIGSTOP');
      const later = sleep(20_000).then(() => {
        s.current.signal('SIGCONT');
        at('SIGCONT');
      });
      return { later };
    },
  },
};

function restartAfter(s: Server, at: (what: string) => void, downMs: number) {
  s.current.signal('SIGKILL');
  const killed = s.current.exited.then(() => at('SIGKILL, exited'));
  const later = killed.then(() => sleep(downMs)).then(() => s.restart());
  return { now: killed, later: later.then(() => at('listening again')) };
}

/** Runs the scenarios named in `names`, each over `images` images. */
export async function measureFaults(
  repoRoot: string,
  images: number,
  names: readonly ScenarioName[],
  log: (line: string) => void,
): Promise<FaultsResult> {
  const port = await freeLoopbackPort();
  const startedAt = new Date().toISOString();
  const scenarios: ScenarioResult[] = [];
  for (const name of names) {
    log(`   faults: ${name}, ${images} images, server on 127.0.0.1:${port}`);
    const result = await scenario(repoRoot, port, images, name);
    const r = result.run;
    log(
      `   faults: ${name}: ${r ? `${r.classified} classified, ${r.lost} lost, ${r.duplicates} duplicated, ` + `${r.wallS.toFixed(1)} s, peak RSS ${r.peakRssMb.toFixed(0)} MB${r.error ? `, error: ${r.error}` : ''}` : result.failure}`,
    );
    scenarios.push(result);
  }
  return { images, window: FAULT_WINDOW, port, startedAt, scenarios };
}

async function scenario(repoRoot: string, port: number, images: number, name: ScenarioName) {
  const server: Server = {
    current: await startFaultServer(repoRoot, port),
    async restart() {
      this.current = await startFaultServer(repoRoot, port);
    },
  };
  const actions: { atMs: number; what: string }[] = [];
  const at = (what: string): void => void actions.push({ atMs: Date.now(), what });
  const { before, act } = FAULTS[name];
  let recovery: Promise<void> = Promise.resolve();
  try {
    if (before) {
      await server.current.command(before);
      at(`set before the run: ${JSON.stringify(before)}`);
    }
    const job: FaultJob = {
      address: server.current.address,
      images,
      deploymentId: deploymentFor(`faults-${name}`),
      window: FAULT_WINDOW,
      ...(act ? { holdAt: faultPoint(images) } : {}),
    };
    const run = await runClient(repoRoot, job, async () => {
      if (!act) return;
      const step = act(server, at);
      recovery = step.later;
      await step.now;
    });
    await recovery;
    return { name, actions, run };
  } catch (error) {
    await recovery.catch(() => undefined);
    return { name, actions, failure: error instanceof Error ? error.message : String(error) };
  } finally {
    await server.current.stop();
  }
}

/**
 * The image the source holds at while the fault is put in place: a window past a quarter of the
 * images, since the source reads a whole window ahead at the start; so a quarter of the outcomes are
 * in and a window of images is read and unanswered when the fault lands.
 */
export function faultPoint(images: number): number {
  return Math.min(images - 1, Math.floor(images / 4) + FAULT_WINDOW);
}

/** Runs the client process; `onHold` puts the fault in place while the source waits. */
function runClient(repoRoot: string, job: FaultJob, onHold: () => Promise<void>): Promise<FaultRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, scriptArgs('faults-process'), {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const limit = setTimeout(() => child.kill('SIGKILL'), SCENARIO_LIMIT_MS);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    createInterface({ input: child.stderr }).on('line', (line) => {
      if (line === 'hold') {
        void onHold().then(
          () => child.stdin.write('go\n'),
          (error: unknown) => {
            err += `fault not put in place: ${String(error)}\n`;
            child.kill('SIGKILL');
          },
        );
      } else err = `${err}${line}\n`.slice(-4000);
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(limit);
      if (code !== 0) {
        return reject(new Error(`client process exited with ${String(code ?? signal)}: ${err.slice(-1000)}`));
      }
      try {
        resolve(JSON.parse(out) as FaultRun);
      } catch (error) {
        reject(new Error(`client process gave no result: ${String(error)}`));
      }
    });
    child.stdin.write(`${JSON.stringify(job)}\n`);
  });
}
