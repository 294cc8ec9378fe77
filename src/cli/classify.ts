import { stat } from 'node:fs/promises';
import { concat, type Observable, Subject, takeUntil, type Subscription } from 'rxjs';
import type { Outcome } from '../model.js';
import type { SourceEvent } from '../internal/flow-stall.js';
import { batch } from '../operators/batch.js';
import { classify } from '../operators/classify.js';
import { compress } from '../operators/compress.js';
import { correlate } from '../operators/correlate.js';
import { hashImage } from '../operators/hashImage.js';
import { createProgress } from '../operators/progress.js';
import { resize } from '../operators/resize.js';
import { fromDirectory } from '../sources/fromDirectory.js';
import { fromFiles } from '../sources/fromFiles.js';
import { fromUrls } from '../sources/fromUrls.js';
import { newDeploymentId } from '../transport/deployments.js';
import type { Connection } from './connect.js';
import type { OutputFormat } from './format.js';
import { createResultWriter } from './results.js';
import { createProgressView } from './progress-view.js';
import { addOutcome, formatSummary, newSummary } from './summary.js';

export interface ClassifyCommandOptions {
  deployment?: string;
  affiliate: string;
  concurrency: number;
  /** `resize`'s budget of pixels decoded at once; none when absent. */
  maxPixelsInFlight?: number;
  maxInFlight: number;
  batchSize: number;
  quality: number;
  resize: 'exact' | 'fast';
  format: OutputFormat;
  recursive: boolean;
  /** Milliseconds to wait for in-flight outcomes after Ctrl-C. */
  drainMs: number;
}

export interface CommandIo {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream & { isTTY?: boolean };
  /** Emits each time the user asks to stop (Ctrl-C): the first stops reading, the second stops waiting. */
  interrupt: Observable<void>;
}

/** Splits command-line inputs into URLs, directories and files (missing paths stay files: they fail per item). */
export async function sortInputs(
  inputs: readonly string[],
): Promise<{ urls: string[]; dirs: string[]; files: string[] }> {
  const urls: string[] = [];
  const dirs: string[] = [];
  const files: string[] = [];
  for (const input of inputs) {
    if (/^https?:\/\//i.test(input)) urls.push(input);
    else if (
      await stat(input).then(
        (s) => s.isDirectory(),
        () => false,
      )
    )
      dirs.push(input);
    else files.push(input);
  }
  return { urls, dirs, files };
}

/**
 * `athena-rx classify`: the library's own pipeline from sources to outcomes, with results on `out`,
 * progress on `err` and a closing summary. Resolves to the exit code: 0 all classified, 2 some failed,
 * 130 interrupted; rejects on a fatal error.
 */
export async function classifyCommand(
  inputs: readonly string[],
  options: ClassifyCommandOptions,
  connection: Connection,
  io: CommandIo,
): Promise<number> {
  const { urls, dirs, files } = await sortInputs(inputs);
  const stopReading = new Subject<void>();
  // A source whose window stays full tells why it reads nothing more; the user sees it on stderr.
  const events = { next: (event: SourceEvent) => io.err.write(`warning: ${event.message}\n`) };
  const source = concat(
    fromFiles(files, { events }),
    ...dirs.map((dir) => fromDirectory(dir, { recursive: options.recursive, events })),
    fromUrls(urls, { events }),
  ).pipe(takeUntil(stopReading));

  const tracker = createProgress();
  const deploymentId = options.deployment ?? newDeploymentId();
  const outcomes$ = source.pipe(
    tracker.countInputs(),
    hashImage(),
    resize({
      mode: options.resize,
      concurrency: options.concurrency,
      ...(options.maxPixelsInFlight === undefined ? {} : { maxPixelsInFlight: options.maxPixelsInFlight }),
    }),
    compress({ quality: options.quality }),
    correlate(),
    batch({ size: options.batchSize }),
    classify(connection.client, {
      deploymentId,
      affiliate: options.affiliate,
      maxInFlight: options.maxInFlight,
      events: tracker.events,
    }),
    tracker.countOutcomes(),
  );

  const writer = createResultWriter(options.format, io.out);
  const summary = newSummary(Date.now());
  const view = createProgressView(tracker.snapshots$, io.err);
  let interrupted = false;
  let subscription: Subscription | undefined;

  const code = await new Promise<number>((resolve, reject) => {
    let drainTimer: NodeJS.Timeout | undefined;
    const interruptSub = io.interrupt.subscribe(() => {
      if (interrupted) {
        // A second Ctrl-C: stop waiting for in-flight images.
        clearTimeout(drainTimer);
        subscription?.unsubscribe();
        resolve(130);
        return;
      }
      interrupted = true;
      stopReading.next();
      drainTimer = setTimeout(() => {
        subscription?.unsubscribe();
        resolve(130);
      }, options.drainMs);
    });
    subscription = outcomes$.subscribe({
      next: (outcome: Outcome) => {
        addOutcome(summary, outcome);
        writer.write(outcome);
      },
      error: (error: unknown) => {
        clearTimeout(drainTimer);
        interruptSub.unsubscribe();
        reject(error);
      },
      complete: () => {
        clearTimeout(drainTimer);
        interruptSub.unsubscribe();
        resolve(interrupted ? 130 : summary.failed > 0 ? 2 : 0);
      },
    });
  }).finally(() => {
    view.stop();
    writer.end();
    io.err.write(`${formatSummary(summary, Date.now(), interrupted)}\n`);
  });
  return code;
}
