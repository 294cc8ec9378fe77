import { AthenaError } from '../errors.js';
import { concat, type Observable, Subject, takeUntil, type Subscription } from 'rxjs';
import type { Outcome } from '../model.js';
import type { SourceEvent } from '../internal/flow/stall.js';
import { classifyPipeline } from '../operators/pipeline.js';
import { journal } from '../operators/journal.js';
import { createProgress } from '../operators/progress.js';
import { fromDirectory } from '../sources/fromDirectory.js';
import { fromFiles } from '../sources/fromFiles.js';
import { fromUrls } from '../sources/fromUrls.js';
import type { Journal } from '../sources/openJournal.js';
import { newDeploymentId } from '../transport/deployments.js';
import type { Connection } from './connect.js';
import type { ImageTelemetryOptions } from '../telemetry/options.js';
import type { OutputFormat } from './format.js';
import { createResultWriter } from './results.js';
import { countInputs } from './count-inputs.js';
import { explainFatal, formatFatal } from './fatal.js';
import { sortInputs } from './input-list.js';
import { createProgressView, type ProgressMode } from './progress-view.js';
import { addOutcome, formatSummary, newSummary, type RunSummary } from './summary.js';

export interface ClassifyCommandOptions {
  deployment?: string;
  affiliate: string;
  concurrency: number;
  /** `resize`'s budget of pixels decoded at once; none when absent. */
  maxPixelsInFlight?: number;
  /** Largest file or download read, in bytes; the sources' default (256 MiB) when absent. */
  maxBytes?: number;
  /** Images read and not yet answered (the sources' window); the sources' default (32) when absent. */
  window?: number;
  maxInFlight: number;
  batchSize: number;
  quality: number;
  resize: 'exact' | 'fast';
  format: OutputFormat;
  recursive: boolean;
  /** Milliseconds to wait for in-flight outcomes after Ctrl-C. */
  drainMs: number;
  /** How progress is shown on `err` (see `progressMode`). */
  progress: ProgressMode;
  /** Exit code 3 when any image matched a known hash. */
  failOnKnownMatch: boolean;
  /**
   * `--format jsonl --output FILE`: the results go to this journal file instead of `out`, and with
   * `previous` (`--resume`) the inputs it holds a final outcome for are skipped.
   */
  journal?: { path: string; previous?: Journal };
  /**
   * Telemetry of the sources and `classify` alike (default: the global OpenTelemetry providers, no
   * per-image spans).
   */
  telemetry?: ImageTelemetryOptions;
}

export interface CommandIo {
  /** Results; when it is a terminal it is taken to be the one `err` draws the bar on. */
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream & { columns?: number };
  /** Emits each time the user asks to stop (Ctrl-C): the first stops reading, the second stops waiting. */
  interrupt: Observable<void>;
}

/**
 * `athena-rx classify`: the library's own pipeline from sources to outcomes, with results on `out`,
 * progress on `err` and a closing summary. Resolves to the exit code: 0 all classified, 2 some failed
 * or no image at all, 3 a known-hash match under `failOnKnownMatch`, 130 interrupted, 0 as well when
 * `out` is a closed pipe (the reader has all it wanted); rejects on a fatal error.
 */
export async function classifyCommand(
  inputs: readonly string[],
  options: ClassifyCommandOptions,
  connection: Connection,
  io: CommandIo,
): Promise<number> {
  const sorted = await sortInputs(inputs);
  const { urls, dirs, files } = sorted;
  const stopReading = new Subject<void>();
  // A source whose window stays full tells why it reads nothing more; the user sees it on stderr,
  // above the progress bar (the view is set up below, long before a source can stall).
  let warn = (text: string): void => void io.err.write(text);
  const events = { next: (event: SourceEvent) => warn(`warning: ${event.message}\n`) };
  const previous = options.journal?.previous;
  const summary = newSummary(Date.now());
  const counted = (skipped: boolean): boolean => {
    if (skipped) summary.resumed += 1;
    return skipped;
  };
  const skip = previous && {
    skip: (ref: string) => {
      const answer = previous.skip(ref);
      return typeof answer === 'boolean' ? counted(answer) : answer.then(counted);
    },
  };
  const telemetry = options.telemetry ?? {};
  const common = {
    ...telemetry,
    events,
    ...skip,
    ...(options.window === undefined ? {} : { window: options.window }),
    ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
  };
  const source = concat(
    fromFiles(files, common),
    ...dirs.map((dir) => fromDirectory(dir, { recursive: options.recursive, ...common })),
    fromUrls(urls, common),
  ).pipe(takeUntil(stopReading));

  const tracker = createProgress();
  const counting = new AbortController();
  void countInputs(sorted, options.recursive, counting.signal).then((total) => {
    // The bar counts what is left to do: inputs with a final outcome in the journal are not.
    if (total !== undefined) tracker.setTotal(Math.max(0, total - (previous?.done ?? 0)));
  });
  const deploymentId = options.deployment ?? newDeploymentId();
  const classified$ = source.pipe(
    tracker.countInputs(),
    classifyPipeline({
      client: connection.client,
      deploymentId,
      affiliate: options.affiliate,
      concurrency: options.concurrency,
      ...(options.maxPixelsInFlight === undefined ? {} : { maxPixelsInFlight: options.maxPixelsInFlight }),
      // The files and URLs are read here and nothing reads their bytes after the resize.
      releaseInput: true,
      maxInFlight: options.maxInFlight,
      batchSize: options.batchSize,
      quality: options.quality,
      resize: options.resize,
      events: tracker.events,
      telemetry,
    }),
  );
  const outcomes$ = classified$.pipe(
    tracker.countOutcomes(),
    options.journal ? journal(options.journal.path) : (outcomes: Observable<Outcome>) => outcomes,
  );

  const writer = options.journal
    ? { write: () => undefined, end: () => undefined }
    : createResultWriter(options.format, io.out);
  const view = createProgressView(tracker.snapshots$, io.err, options.progress, {
    current: () => tracker.snapshot(),
  });
  warn = (text) => view.print(() => io.err.write(text));
  if (previous) {
    const torn =
      previous.truncatedBytes > 0 ? `; a torn last line (${previous.truncatedBytes} bytes) was cut off` : '';
    warn(`resuming ${previous.path}: ${previous.done} images already done are skipped${torn}\n`);
  }
  // Rows go above the bar when both are on the same terminal; elsewhere they need no clearing.
  const print = io.out.isTTY ? view.print : (write: () => void) => write();
  let interrupted = false;
  let pipeClosed = false;
  let subscription: Subscription | undefined;
  let onOutError: ((error: Error & { code?: string }) => void) | undefined;

  const code = await new Promise<number>((resolve, reject) => {
    let drainTimer: NodeJS.Timeout | undefined;
    const end = (): void => {
      clearTimeout(drainTimer);
      interruptSub.unsubscribe();
      subscription?.unsubscribe();
    };
    onOutError = (error) => {
      end();
      if (error.code === 'EPIPE') {
        // The reader went away (`| head`): stop the work quietly, as shell tools do.
        pipeClosed = true;
        resolve(0);
      } else reject(new AthenaError('WRITE_FAILED', `cannot write the results: ${error.message}`));
    };
    io.out.on('error', onOutError);
    const interruptSub = io.interrupt.subscribe(() => {
      if (interrupted) {
        // A second Ctrl-C: stop waiting for in-flight images.
        end();
        resolve(130);
        return;
      }
      interrupted = true;
      stopReading.next();
      drainTimer = setTimeout(() => {
        end();
        resolve(130);
      }, options.drainMs);
    });
    subscription = outcomes$.subscribe({
      next: (outcome: Outcome) => {
        addOutcome(summary, outcome);
        if (!pipeClosed) print(() => writer.write(outcome));
      },
      error: (error: unknown) => {
        end();
        reject(error);
      },
      complete: () => {
        end();
        resolve(exitCode(summary, interrupted, options.failOnKnownMatch));
      },
    });
  }).finally(() => {
    counting.abort();
    view.stop();
    if (pipeClosed) return;
    writer.end();
    if (summary.classified + summary.failed + summary.resumed === 0 && !interrupted) {
      const empty = new AthenaError(
        'NO_INPUT',
        'no images in the inputs (folders are read for image extensions)',
      );
      io.err.write(formatFatal(explainFatal(empty)));
    }
    const s = tracker.snapshot();
    io.err.write(`${formatSummary(summary, Date.now(), interrupted, s.total ?? s.submitted)}\n`);
  });
  // Keep listening: writes still queued when the pipe closed fail later and must not crash.
  if (!pipeClosed && onOutError) io.out.off('error', onOutError);
  return code;
}

/**
 * 130 interrupted, 3 a known-hash match when asked, 2 failures or no image at all (inputs a resumed
 * run skipped count as images), else 0.
 */
export function exitCode(summary: RunSummary, interrupted: boolean, failOnKnownMatch: boolean): number {
  if (interrupted) return 130;
  if (failOnKnownMatch && summary.knownMatches.length > 0) return 3;
  return summary.failed > 0 || summary.classified + summary.resumed === 0 ? 2 : 0;
}
