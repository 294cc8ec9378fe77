import { catchError, defer, map, mergeMap, of, throwError, type Observable } from 'rxjs';
import { AthenaError, redactUrl } from '../errors.js';
import { imageItem, toFailure, type ItemOrFailure } from '../model.js';
import { retryPolicy, type RetryPolicy } from '../internal/retry/policy.js';
import { retryOn } from '../internal/retry/retry-on.js';
import {
  concurrencyOption,
  fromPulled,
  isPullable,
  skipOption,
  windowOption,
  type SkipOptions,
} from '../internal/flow/source.js';
import { stallOptions, type SourceFlowOptions } from '../internal/flow/stall.js';
import { imageTelemetrySetup, type ImageTelemetryOptions } from '../telemetry/options.js';
import { limitOptions, type SourceLimitOptions } from '../internal/input/limits.js';
import {
  attemptOnce,
  type BodyReader,
  type FetchLike,
  type FetchResponse,
} from '../internal/input/http-get.js';
import { assertFunction, assertInteger } from '../internal/core/validate.js';

export type { BodyReader, FetchLike, FetchResponse };

export interface FromUrlsOptions
  extends SourceFlowOptions, ImageTelemetryOptions, SourceLimitOptions, SkipOptions {
  /** Downloads at once. Default 8. */
  readonly concurrency?: number;
  /** Headers sent with every request (never put in messages). */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Retries of transient failures (5xx, 429, network errors, timeouts). Default: 3 attempts, delays
   * from 250 ms up to 5 s with full jitter, 60 s budget. Failures have code `HTTP_ERROR` with
   * `details` set to the HTTP status (`'503'`), `'timeout'` or `'network'`.
   */
  readonly retry?: Partial<RetryPolicy>;
  /** Time allowed for one attempt, body included, in milliseconds. Default 30,000. */
  readonly timeoutMs?: number;
  /** The fetch to use; default the global `fetch`. */
  readonly fetch?: FetchLike;
}

/** Retries 5xx, 429, timeouts and network errors. */
export function isTransientHttpError(error: AthenaError): boolean {
  if (error.code !== 'HTTP_ERROR') return false;
  const status = Number(error.details);
  return error.details === 'timeout' || error.details === 'network' || status === 429 || status >= 500;
}

/**
 * Downloads images over HTTP(S), pre-signed URLs included, one item per URL.
 *
 * ```text
 * urls:    a  b(404)  c(503, then 200)  d(slow)
 * output:  --a--F(read,HTTP_ERROR 404)----c---F(read,HTTP_ERROR timeout)--|
 * ```
 *
 * At most `concurrency` downloads run at once, at most `window` items are read and not yet released
 * (see `releaseLeases`), and items come out in the order of `urls`. `ref` is the URL with its query
 * string and user info redacted (`https://bucket/a.jpg?<redacted>`): signatures of pre-signed URLs
 * never appear in `ref` or in any message. A 4xx/5xx answer, a timeout or a network error gives a
 * `read` failure with code `HTTP_ERROR` after the retries allowed; an empty body `EMPTY_INPUT`; a
 * URL that is not http(s) `INVALID_INPUT`. Bodies are streamed: a `Content-Length` over `maxBytes`
 * fails before the body and a longer body as soon as it passes the cap (`FILE_TOO_LARGE`), and a
 * body over 64 KiB is judged from its first bytes (`UNSUPPORTED_FORMAT`, `IMAGE_TOO_MANY_PIXELS`).
 * The reason phrase is scrubbed of the URL's query values and the header values, and capped. Nothing
 * is fetched before subscribe; unsubscribing aborts the downloads in flight.
 *
 * @example
 * ```ts
 * import { fromUrls } from 'athena-rx/sources';
 *
 * fromUrls(presignedUrls, { concurrency: 16, timeoutMs: 10_000 });
 * ```
 *
 * With telemetry (`tracerProvider`, `meterProvider`, `traceImages`, `traceRefs`: see
 * `ImageTelemetryOptions` and docs/observability.md), each image's trace starts when its read does.
 *
 * @param urls - URLs, synchronously or asynchronously iterable.
 * @param options - `concurrency` (8), `headers`, `retry`, `timeoutMs` (30,000), `fetch`, `skip` (a URL
 *   whose redacted ref it answers `true` for is never fetched), `window` (32),
 *   `maxBytes` (256 MiB), `maxPixels` (100,000,000): see `SourceLimitOptions`;
 *   `windowStallWarnMs` (30,000), `events`, `scheduler`: see `SourceFlowOptions`.
 */
export function fromUrls(
  urls: Iterable<string | URL> | AsyncIterable<string | URL>,
  options: FromUrlsOptions = {},
): Observable<ItemOrFailure> {
  if (typeof urls === 'string' || !isPullable(urls)) throw new TypeError('urls must be an iterable of URLs');
  const window = windowOption(options.window);
  const skip = skipOption(options.skip);
  const stall = stallOptions(options);
  const telemetry = imageTelemetrySetup(options);
  const concurrency = concurrencyOption(options.concurrency, 8);
  const timeoutMs =
    options.timeoutMs === undefined ? 30_000 : assertInteger('timeoutMs', options.timeoutMs, 1);
  const policy = retryPolicy({
    maxAttempts: 3,
    initialDelayMs: 250,
    maxDelayMs: 5_000,
    budgetMs: 60_000,
    retryable: isTransientHttpError,
    ...options.retry,
  });
  const headers = headersOption(options.headers);
  const limits = limitOptions(options);
  const fetchFn = options.fetch === undefined ? undefined : assertFunction<FetchLike>('fetch', options.fetch);
  return fromPulled<unknown>(
    () => urls,
    (url, index, signal) => {
      const text = url instanceof URL ? url.href : String(url);
      const ref = redactUrl(text);
      const fail = (error: AthenaError): ItemOrFailure => toFailure({ ref, index }, 'read', error);
      if (!/^https?:\/\/[^/]/i.test(text) || !URL.canParse(text)) {
        return of(fail(new AthenaError('INVALID_INPUT', `${ref} is not an http(s) URL`)));
      }
      const doFetch = fetchFn ?? (globalThis.fetch as unknown as FetchLike);
      return defer(() =>
        attemptOnce(doFetch, text, ref, headers, timeoutMs, signal, limits, stall.scheduler),
      ).pipe(
        mergeMap((result) => (result instanceof AthenaError ? throwError(() => result) : of(result))),
        retryOn<Uint8Array>(policy, { scheduler: stall.scheduler, waitWithinBudget: false }),
        map((data) =>
          data.byteLength > 0
            ? imageItem({ ref, data, index })
            : fail(new AthenaError('EMPTY_INPUT', `${ref} answered with an empty body`)),
        ),
        // The answers given up on; anything else thrown is the source's to report (`READ_FAILED`).
        catchError((error: unknown) =>
          error instanceof AthenaError ? of(fail(error)) : throwError(() => error),
        ),
      );
    },
    // `skip` sees the redacted ref, as every later record of the input does.
    {
      window,
      concurrency,
      ...stall,
      telemetry,
      skip: skip && ((url) => skip(redactUrl(url instanceof URL ? url.href : String(url)))),
    },
  );
}

function headersOption(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('headers must be an object of strings');
  }
  for (const [name, text] of Object.entries(value)) {
    if (typeof text !== 'string') throw new TypeError(`headers.${name} must be a string`);
  }
  return { ...(value as Record<string, string>) };
}
