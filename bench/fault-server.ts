/**
 * The server side of the fault runs, seen from the benchmark: a `fault-server-process` child on a
 * fixed loopback port, which can be sent fault commands, signalled (SIGKILL, SIGSTOP, SIGCONT) and
 * started again on the same port.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { scriptArgs } from './paths.js';

/** A running fault server process. */
export interface FaultServer {
  readonly pid: number;
  readonly address: string;
  /** Sends one command (`{ faults }`, `{ clear: true }`, `{ abort: true }`) and waits for its answer. */
  command(command: object): Promise<void>;
  /** Sends a signal to the process. */
  signal(signal: NodeJS.Signals): void;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  /** Ends the process (resumed first if stopped), SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/** Starts the server on `port` of 127.0.0.1; rejects when it does not listen within 20 s. */
export function startFaultServer(repoRoot: string, port: number): Promise<FaultServer> {
  const child = spawn(process.execPath, [...scriptArgs('fault-server-process'), String(port)], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin.on('error', () => undefined); // a command written to a killed server goes nowhere
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err = (err + chunk).slice(-2000)));
  const waiting: { resolve: () => void; reject: (e: Error) => void }[] = [];
  void exited.then(() => {
    for (const w of waiting.splice(0)) w.reject(new Error(`fault server exited: ${err}`));
  });
  const handle: FaultServer = {
    pid: child.pid ?? -1,
    address: `127.0.0.1:${port}`,
    command: (command) =>
      new Promise<void>((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin.write(`${JSON.stringify(command)}\n`);
      }),
    signal: (signal) => void child.kill(signal),
    exited,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGCONT');
      child.stdin.end();
      const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(kill);
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fault server: no address after 20 s\n${err}`));
    }, 20_000);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`fault server exited before listening\n${err}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('listening on ')) {
        clearTimeout(timer);
        resolve(handle);
      } else if (line === 'ok') waiting.shift()?.resolve();
      else if (line.startsWith('error ')) waiting.shift()?.reject(new Error(line.slice(6)));
    });
  });
}
