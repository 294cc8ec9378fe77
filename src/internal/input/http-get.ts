/**
 * One HTTP GET for `fromUrls`, safely: the body is streamed and dropped as soon as it passes the
 * size cap or its first bytes show it cannot be an image, and every text the server chose (the
 * reason phrase, a network error naming the URL) is scrubbed of the URL's query values and the
 * request's header values, and capped, before it reaches a message.
 */
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { AthenaError } from '../../errors.js';
import { scrubText } from '../secrets/scrub.js';
import { HEAD_BYTES, judgeHead, tooLarge, type SourceLimits } from './limits.js';

/** A reader of a fetch body stream, as `ReadableStream.getReader()` gives it. */
export interface BodyReader {
  read(): Promise<{ done: boolean; value?: Uint8Array | undefined }>;
  cancel(reason?: unknown): Promise<void>;
}

/** The part of a fetch `Response` that `fromUrls` uses. */
export interface FetchResponse {
  readonly status: number;
  readonly statusText?: string;
  /** The final URL after redirects; its query values are scrubbed from the server's texts too. */
  readonly url?: string;
  /** Read for `Content-Length`, so an answer declared over the cap fails before its body. */
  readonly headers?: { get(name: string): string | null } | null;
  /** Read whole only when the body cannot be streamed (`body.getReader` missing). */
  arrayBuffer(): Promise<ArrayBuffer>;
  readonly body?: { cancel?(): Promise<void>; getReader?(): BodyReader } | null;
}

/** The part of `fetch` that `fromUrls` uses; the global `fetch` fits. */
export type FetchLike = (
  url: string,
  init: { headers: Record<string, string>; signal: AbortSignal; redirect: 'follow' },
) => Promise<FetchResponse>;

/**
 * One GET of `url` under a timeout that covers the body too: the bytes, an `HTTP_ERROR` whose
 * `details` is the HTTP status, `'timeout'` or `'network'`, or the `read` verdict on a body over
 * `limits.maxBytes` (`FILE_TOO_LARGE`) or judged from its first bytes (`UNSUPPORTED_FORMAT`,
 * `IMAGE_TOO_MANY_PIXELS`). Messages name the URL only redacted, and a cause that mentions the URL
 * is left out.
 */
export async function attemptOnce(
  doFetch: FetchLike,
  url: string,
  ref: string,
  headers: Record<string, string>,
  timeoutMs: number,
  signal: AbortSignal,
  limits: SourceLimits,
  scheduler: SchedulerLike = asyncScheduler,
): Promise<Uint8Array | AthenaError> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = scheduler.schedule(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const abort = (): void => controller.abort();
  signal.addEventListener('abort', abort, { once: true });
  const secrets = secretsOf(url, headers);
  try {
    const response = await doFetch(url, { headers, signal: controller.signal, redirect: 'follow' });
    if (response.status < 200 || response.status > 299) {
      await response.body?.cancel?.().catch(() => undefined);
      const phrase = response.statusText ? ` ${scrubText(response.statusText, secrets)}` : '';
      return new AthenaError('HTTP_ERROR', `HTTP ${response.status}${phrase} from ${ref}`, {
        details: String(response.status),
      });
    }
    const declared = Number(response.headers?.get('content-length') ?? Number.NaN);
    if (declared > limits.maxBytes) {
      await response.body?.cancel?.().catch(() => undefined);
      return tooLarge(ref, limits.maxBytes, declared);
    }
    const reader = response.body?.getReader?.();
    if (reader !== undefined) return await readCapped(reader, ref, limits);
    const whole = new Uint8Array(await response.arrayBuffer());
    if (whole.byteLength > limits.maxBytes) return tooLarge(ref, limits.maxBytes, whole.byteLength);
    return whole;
  } catch (error) {
    if (timedOut) {
      return new AthenaError('HTTP_ERROR', `No answer from ${ref} within ${timeoutMs} ms`, {
        details: 'timeout',
      });
    }
    const reason = scrubText(reasonOf(error).split(url).join(ref), secrets);
    return new AthenaError('HTTP_ERROR', `Cannot fetch ${ref}: ${reason}`, {
      details: 'network',
      cause: mentions(error, url, new URL(url).search) ? undefined : error,
    });
  } finally {
    timer.unsubscribe();
    signal.removeEventListener('abort', abort);
    controller.abort(); // whatever is left of a body not read to its end
  }
}

/**
 * Reads a body chunk by chunk: dropped (and the stream cancelled) as soon as it passes the cap, or,
 * once it is larger than {@link HEAD_BYTES}, when its first bytes show it is no image.
 */
async function readCapped(
  reader: BodyReader,
  ref: string,
  limits: SourceLimits,
): Promise<Uint8Array | AthenaError> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let judged = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (value === undefined || value.byteLength === 0) continue;
    chunks.push(value);
    total += value.byteLength;
    let verdict = total > limits.maxBytes ? tooLarge(ref, limits.maxBytes) : undefined;
    if (verdict === undefined && !judged && total > HEAD_BYTES) {
      judged = true;
      verdict = judgeHead(ref, concat(chunks, total).subarray(0, HEAD_BYTES), limits);
    }
    if (verdict !== undefined) {
      chunks.length = 0;
      await reader.cancel().catch(() => undefined);
      return verdict;
    }
  }
  return chunks.length === 1 ? chunks[0]! : concat(chunks, total);
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/**
 * What the server may echo and must not reach a message: the URL, its query string, each query
 * value (raw and decoded), and the values of the headers sent.
 */
function secretsOf(url: string, headers: Record<string, string>): string[] {
  const parsed = new URL(url);
  const query = parsed.search.slice(1);
  const values = query.split('&').flatMap((pair) => {
    const raw = pair.slice(pair.indexOf('=') + 1);
    return [raw, ...safeDecode(raw)];
  });
  return [url, query, parsed.username, parsed.password, ...values, ...Object.values(headers)];
}

function safeDecode(text: string): string[] {
  try {
    return [decodeURIComponent(text.replace(/\+/g, ' '))];
  } catch {
    return [];
  }
}

function reasonOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function mentions(error: unknown, url: string, secret: string): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; depth += 1) {
    const text = `${(e as { message?: unknown }).message ?? ''} ${String((e as { input?: unknown }).input ?? '')}`;
    if (text.includes(url) || (secret.length > 0 && text.includes(secret))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
