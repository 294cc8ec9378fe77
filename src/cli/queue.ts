/**
 * The queue commands: `enqueue` a run's inputs, run a `worker`, and follow a run's `results` with
 * the same output formats, known-hash marking, summary and exit codes as `classify`. Loaded only
 * when one of them runs, so the other commands never load BullMQ.
 */
import { lastValueFrom, type Observable, tap } from 'rxjs';
import { AthenaError } from '../errors.js';
import { enqueue, results, work, type RunProgress, type WorkOptions } from '../queue/index.js';
import { exitCode } from './classify.js';
import type { Connection } from './connect.js';
import type { OutputFormat } from './format.js';
import { createResultWriter } from './results.js';
import { addOutcome, formatSummary, newSummary } from './summary.js';

type Out = NodeJS.WritableStream;

/** `athena-rx enqueue`: prints what was added; 0, or 2 when the inputs hold no image. */
export async function enqueueCommand(
  inputs: readonly string[],
  options: {
    redis: string;
    run: string;
    chunkSize: number;
    attempts: number;
    recursive: boolean;
    queue?: string;
  },
  out: Out,
): Promise<number> {
  const report = await lastValueFrom(enqueue({ ...options, inputs }));
  out.write(
    `run ${report.run}: ${report.refs} refs in ${report.chunks} chunks, ${report.added} chunks added` +
      `${report.added === 0 && report.chunks > 0 ? ' (already enqueued)' : ''}\n`,
  );
  return report.refs === 0 ? 2 : 0;
}

/** What the worker command is given beyond its connection. */
export type WorkerCommandOptions = Omit<WorkOptions, 'client' | 'stop'> & { redis: string; queue?: string };

/**
 * `athena-rx worker`: works on chunks until `stop` emits (SIGTERM, Ctrl-C: it drains first) or,
 * with `untilIdle`, until the queue is empty. One line per chunk finished on `err`. Resolves to 0.
 */
export async function workerCommand(
  options: WorkerCommandOptions,
  connection: Connection,
  io: { err: Out; stop: Observable<unknown> },
): Promise<number> {
  let recorded = 0;
  await lastValueFrom(
    work({ ...options, client: connection.client, stop: io.stop }).pipe(
      tap((event) => {
        if (event.kind === 'started') io.err.write(`worker started (deployment ${event.deploymentId})\n`);
        else if (event.kind === 'chunk') {
          io.err.write(
            `chunk ${event.run}/${event.chunk}: taken, ${event.todo} of ${event.refs} refs to do\n`,
          );
        } else if (event.kind === 'chunk-done') {
          recorded += event.recorded;
          io.err.write(`chunk ${event.run}/${event.chunk}: ${event.recorded} outcomes recorded\n`);
        } else if (event.kind === 'chunk-failed') {
          io.err.write(
            `chunk ${event.jobId} failed${event.last ? ' for good' : ''}: ${event.error.code}: ${event.error.message}\n`,
          );
        }
      }),
    ),
    { defaultValue: undefined },
  );
  io.err.write(`worker stopped: ${recorded} outcomes recorded\n`);
  return 0;
}

function progressLine(p: RunProgress): string {
  const pending = p.pending === undefined ? 'unknown (enqueue not finished)' : String(p.pending);
  const dead = p.deadLetters > 0 ? `, ${p.deadLetters} chunks failed for good` : '';
  return `run: ${p.done} classified, ${p.failed} failed, ${pending} pending, ${p.workersAlive} workers alive${dead}`;
}

/**
 * `athena-rx results`: the run's outcomes on `out` (table, jsonl or csv) as they land, dead letters
 * and a closing summary on `err`. Exit codes as `classify`: 0 all classified, 2 some failed (or none
 * at all), 3 a known-hash match under `failOnKnownMatch`; 2 as well when, without `follow`, refs are
 * still pending.
 */
export async function resultsCommand(
  options: {
    redis: string;
    run: string;
    format: OutputFormat;
    follow: boolean;
    failOnKnownMatch: boolean;
    queue?: string;
  },
  io: { out: Out; err: Out },
): Promise<number> {
  const summary = newSummary(Date.now());
  const writer = createResultWriter(options.format, io.out);
  let last: RunProgress | undefined;
  const { format: _format, failOnKnownMatch, ...rest } = options;
  await lastValueFrom(
    results(rest).pipe(
      tap((event) => {
        last = event.progress;
        if (event.kind === 'outcome') {
          addOutcome(summary, event.outcome);
          writer.write(event.outcome);
        } else if (event.kind === 'dead-letter') {
          io.err.write(`chunk ${event.chunk} failed for good: ${event.error.code}: ${event.error.message}\n`);
        }
      }),
    ),
    { defaultValue: undefined },
  );
  writer.end();
  io.err.write(`${formatSummary(summary, Date.now())}\n`);
  if (last !== undefined) io.err.write(`${progressLine(last)}\n`);
  if (last?.total === undefined && summary.classified + summary.failed === 0) {
    throw new AthenaError('NO_INPUT', `run ${options.run} holds no refs: was it enqueued?`);
  }
  const code = exitCode(summary, false, failOnKnownMatch);
  return code === 0 && last?.complete !== true ? 2 : code;
}
