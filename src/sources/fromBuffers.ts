import { type Observable } from 'rxjs';
import { type ItemOrFailure } from '../model.js';
import { bufferItem, type NamedBuffer } from '../internal/input/buffer-item.js';
import { fromPulled, isPullable, windowOption } from '../internal/flow/source.js';
import { stallOptions, type SourceFlowOptions } from '../internal/flow/stall.js';
import { imageTelemetrySetup, type ImageTelemetryOptions } from '../telemetry/options.js';
import { limitOptions } from '../internal/input/limits.js';

export type { NamedBuffer };

export interface FromBuffersOptions extends SourceFlowOptions, ImageTelemetryOptions {
  /** Items taken and not yet released (see `releaseLeases`). Default 32. */
  readonly window?: number;
  /** Largest buffer taken, in bytes; a larger one fails with `FILE_TOO_LARGE` at stage `read`. Default 256 MiB. */
  readonly maxBytes?: number;
}

/**
 * Images already in memory, one item per buffer.
 *
 * ```text
 * buffers: {name:'a', data}  Uint8Array  Uint8Array(0)  'junk'
 * output:  (a buffer-1 F(read,EMPTY_INPUT) F(read,INVALID_INPUT))|
 * ```
 *
 * Takes `Uint8Array`s (Buffers included) or `{ name?, data, meta? }` objects; `ref` is the name, or
 * `buffer-<index>` without one, and `index` the position in `buffers`. The bytes are not copied: do
 * not change them while they travel. Each subscription iterates `buffers` again; a synchronous
 * iterable is taken synchronously. The window matters for lazy (generated or async) iterables: at
 * most `window` buffers are taken and not yet released (see `releaseLeases`).
 *
 * @example
 * ```ts
 * import { fromBuffers } from 'athena-rx/sources';
 *
 * fromBuffers([{ name: 'upload-17', data: await request.bytes() }]);
 * ```
 *
 * With telemetry (`tracerProvider`, `meterProvider`, `traceImages`, `traceRefs`: see
 * `ImageTelemetryOptions` and docs/observability.md), each image's trace starts when its read does.
 *
 * @param buffers - buffers or named buffers, synchronously or asynchronously iterable.
 * @param options - `window` (default 32), `maxBytes` (256 MiB),
 *   `windowStallWarnMs` (30,000), `events`, `scheduler`: see `SourceFlowOptions`.
 */
export function fromBuffers(
  buffers: Iterable<NamedBuffer | Uint8Array> | AsyncIterable<NamedBuffer | Uint8Array>,
  options: FromBuffersOptions = {},
): Observable<ItemOrFailure> {
  if (!isPullable(buffers) || buffers instanceof Uint8Array) {
    throw new TypeError('buffers must be an iterable of Uint8Array or { name, data }');
  }
  const window = windowOption(options.window);
  const stall = stallOptions(options);
  const telemetry = imageTelemetrySetup(options);
  const { maxBytes } = limitOptions({ maxBytes: options.maxBytes });
  return fromPulled<unknown>(
    () => buffers,
    (value, index) => [bufferItem(value, index, maxBytes)],
    {
      window,
      concurrency: window,
      ...stall,
      telemetry,
    },
  );
}
