/** The railway mechanics of per-item operators: work on each image, its errors as item failures. */
import {
  catchError,
  defer,
  mergeMap,
  of,
  take,
  throwIfEmpty,
  type ObservableInput,
  type OperatorFunction,
} from 'rxjs';
import { AthenaError, type AthenaErrorCode } from '../../errors.js';
import { toFailure, type FailureStage, type ImageItem, type ItemOrFailure } from '../../model.js';
import type { ImagePhase } from '../../telemetry/options.js';
import { tracedStep } from './trace-step.js';

/** Per-item work: returns the next form of the item, or a failure. May be a Promise or an Observable. */
export type ItemWork = (item: ImageItem) => ObservableInput<ItemOrFailure>;

export interface MapItemsOptions {
  /** Items worked on at once. */
  readonly concurrency: number;
  /** Stage named by failures this work produces. */
  readonly stage: FailureStage;
  /** Code for errors thrown by the work that are not already `AthenaError`s. */
  readonly code: AthenaErrorCode;
  /** The step recorded on each image's trace, when it has one (see `ImageTrace`). */
  readonly phase?: ImagePhase;
}

/**
 * The railway mechanics shared by item operators: failures pass through untouched, each image is
 * worked on with bounded concurrency, and anything the work throws becomes an `ItemFailure` at the
 * operator's stage instead of an error notification. Only the first value of the work is used; work
 * that completes without one fails the item. With `phase`, the work is timed onto the image's trace.
 */
export function mapItems(
  work: ItemWork,
  options: MapItemsOptions,
): OperatorFunction<ItemOrFailure, ItemOrFailure> {
  return (source) =>
    source.pipe(
      mergeMap((value) => {
        if (value.kind !== 'image') return of(value);
        const work$ = defer(() => work(value)).pipe(
          take(1),
          throwIfEmpty(() => new AthenaError(options.code, `${options.stage} produced no result`)),
          catchError((error: unknown) =>
            of(toFailure(value, options.stage, AthenaError.from(error, options.code))),
          ),
        );
        return options.phase === undefined ? work$ : tracedStep(value.trace, options.phase, work$);
      }, options.concurrency),
    );
}
