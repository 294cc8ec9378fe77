import type { Readable } from 'node:stream';
import { type Observable } from 'rxjs';
import { type ItemOrFailure } from '../model.js';
import { bufferItem, type NamedBuffer } from '../internal/input/buffer-item.js';
import { stallOptions, type SourceFlowOptions } from '../internal/flow/stall.js';
import { imageTelemetrySetup, type ImageTelemetryOptions } from '../telemetry/options.js';
import { limitOptions } from '../internal/input/limits.js';
import { fromPulled, windowOption } from '../internal/flow/source.js';

export interface FromReadableOptions extends SourceFlowOptions, ImageTelemetryOptions {
  /** Objects taken from the stream and not yet released (see `releaseLeases`). Default 32. */
  readonly window?: number;
  /** Largest buffer taken, in bytes; a larger one fails with `FILE_TOO_LARGE` at stage `read`. Default 256 MiB. */
  readonly maxBytes?: number;
}

/**
 * Images from a Node `Readable` in object mode, one item per object.
 *
 * ```text
 * stream:  {name:'a', data}  Buffer  {data: empty}  end
 * output:  --a----buffer-1---F(read,EMPTY_INPUT)----|
 * stream error:          --a--#      output: --a--#
 * ```
 *
 * Each object the stream gives is one whole image: a `Buffer`/`Uint8Array`, or `{ name?, data,
 * meta? }` (`ref` is the name, or `buffer-<index>`). A byte stream (not in object mode) is refused
 * with a TypeError, since its chunks are not images. The stream is read only while the window has
 * credits, so a fast producer is held back by the stream's own backpressure (`push()` returning
 * false) and memory stays bounded by `window` plus the stream's `highWaterMark`.
 *
 * A stream can be read once: subscribe once. Unsubscribing destroys the stream; a stream error ends
 * the Observable with that error after the objects already taken.
 *
 * @example
 * ```ts
 * import { Readable } from 'node:stream';
 * import { fromReadable } from 'athena-rx/sources';
 *
 * fromReadable(Readable.from(uploads()), { window: 8 });
 * ```
 *
 * With telemetry (`tracerProvider`, `meterProvider`, `traceImages`, `traceRefs`: see
 * `ImageTelemetryOptions` and docs/observability.md), each image's trace starts when its read does.
 *
 * @param stream - a Readable in object mode (or any async iterable of the same objects).
 * @param options - `window` (default 32), `maxBytes` (256 MiB),
 *   `windowStallWarnMs` (30,000), `events`, `scheduler`: see `SourceFlowOptions`.
 */
export function fromReadable(
  stream: Readable | AsyncIterable<NamedBuffer | Uint8Array>,
  options: FromReadableOptions = {},
): Observable<ItemOrFailure> {
  if (typeof stream !== 'object' || stream === null || !(Symbol.asyncIterator in stream)) {
    throw new TypeError('stream must be a Readable in object mode');
  }
  if ((stream as Partial<Readable>).readableObjectMode === false) {
    throw new TypeError('stream must be in object mode: each object one whole image');
  }
  const window = windowOption(options.window);
  const stall = stallOptions(options);
  const telemetry = imageTelemetrySetup(options);
  const { maxBytes } = limitOptions({ maxBytes: options.maxBytes });
  return fromPulled<unknown>(
    () => stream as AsyncIterable<unknown>,
    (value, index) => [bufferItem(value, index, maxBytes)],
    { window, concurrency: window, ...stall, telemetry },
  );
}
