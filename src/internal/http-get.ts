import { AthenaError, redactUrl } from '../errors.js';

/** The part of a fetch `Response` that `fromUrls` uses. */
export interface FetchResponse {
  readonly status: number;
  readonly statusText?: string;
  arrayBuffer(): Promise<ArrayBuffer>;
  readonly body?: { cancel?(): Promise<void> } | null;
}

/** The part of `fetch` that `fromUrls` uses; the global `fetch` fits. */
export type FetchLike = (
  url: string,
  init: { headers: Record<string, string>; signal: AbortSignal; redirect: 'follow' },
) => Promise<FetchResponse>;

/**
 * One GET of `url` under a timeout that covers the body too: the bytes, or an `HTTP_ERROR` whose
 * `details` is the HTTP status, `'timeout'` or `'network'`. Messages name the URL only redacted, and
 * a cause that mentions the URL is left out.
 */
export async function attemptOnce(
  doFetch: FetchLike,
  url: string,
  ref: string,
  headers: Record<string, string>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Uint8Array | AthenaError> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const abort = (): void => controller.abort();
  signal.addEventListener('abort', abort, { once: true });
  try {
    const response = await doFetch(url, { headers, signal: controller.signal, redirect: 'follow' });
    if (response.status < 200 || response.status > 299) {
      await response.body?.cancel?.().catch(() => undefined);
      const reason = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
      return new AthenaError('HTTP_ERROR', `HTTP ${reason} from ${ref}`, {
        details: String(response.status),
      });
    }
    return new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    if (timedOut) {
      return new AthenaError('HTTP_ERROR', `No answer from ${ref} within ${timeoutMs} ms`, {
        details: 'timeout',
      });
    }
    const secret = new URL(url).search;
    return new AthenaError('HTTP_ERROR', `Cannot fetch ${ref}: ${scrub(reasonOf(error), url, secret)}`, {
      details: 'network',
      cause: mentions(error, url, secret) ? undefined : error,
    });
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', abort);
  }
}

function reasonOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function scrub(text: string, url: string, secret: string): string {
  const redacted = text.split(url).join(redactUrl(url));
  return secret.length > 0 ? redacted.split(secret).join('?<redacted>') : redacted;
}

function mentions(error: unknown, url: string, secret: string): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; depth += 1) {
    const text = `${(e as { message?: unknown }).message ?? ''} ${String((e as { input?: unknown }).input ?? '')}`;
    if (text.includes(url) || (secret.length > 0 && text.includes(secret))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
