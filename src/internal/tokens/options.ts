/**
 * src/internal/tokens/ holds the token manager and the OAuth requests it runs; it imports rxjs,
 * src/errors.ts, src/internal/ helpers and the types of src/transport/contracts.ts only.
 *
 * This file: the options every OAuth token source shares, and their validation. Everything here throws at factory
 * time (TypeError/RangeError) and no message ever quotes a secret.
 */
import { asyncScheduler, type ObservableInput, type SchedulerLike } from 'rxjs';
import { OAuthError, type AthenaError } from '../../errors.js';
import { retryPolicy, type RetryPolicy } from '../retry/policy.js';
import { MAX_TIMER_MS } from '../core/limits.js';
import { assertFunction, assertNumber, assertString } from '../core/validate.js';

/** The part of an HTTP response a token source reads. A WHATWG `Response` fits. */
export interface TokenHttpResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  /** The body as text: a Promise (fetch) or an Observable (tests in virtual time). */
  text(): ObservableInput<string>;
}

/** What a token request hands to `fetch`. */
export interface TokenHttpRequest {
  readonly method: 'POST';
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly signal: AbortSignal;
}

/** The HTTP call a token source makes; the global `fetch` fits, and so does a fake returning `cold(...)`. */
export type TokenFetch = (url: string, init: TokenHttpRequest) => ObservableInput<TokenHttpResponse>;

/** Options about timing, retries and I/O shared by `clientCredentials` and `passwordGrant`. */
export interface TokenRefreshOptions {
  /**
   * Refresh this long before expiry, but never earlier than a tenth of the token's lifetime before it
   * (default 60 000 ms).
   */
  readonly refreshMarginMs?: number;
  /**
   * Retry policy for transient failures: network errors, timeouts, HTTP 408, 429 and 5xx (default: 5
   * attempts, 500 ms first delay, doubling, at most 15 s, within 60 s). A 4xx answer is never retried.
   */
  readonly retry?: Partial<RetryPolicy>;
  /** Time allowed for one token request, body included (default 30 000 ms). */
  readonly timeoutMs?: number;
  /**
   * Lifetime assumed for a token whose answer has no `expires_in` (RFC 6749 only recommends it), in
   * seconds (default 3600). Such a token is refreshed like any other, or sooner when a call is refused
   * `UNAUTHENTICATED`.
   */
  readonly defaultExpiresInS?: number;
  /**
   * Source of time for timers and expiry math (default `asyncScheduler` for requests and `Date.now`
   * with `unref()`ed timers for refreshes, so a pending refresh never keeps the process alive). An
   * injected scheduler is used as given.
   */
  readonly scheduler?: SchedulerLike;
  /** The HTTP call (default the global `fetch`, looked up when a request starts). */
  readonly fetch?: TokenFetch;
}

/** The validated form of {@link TokenRefreshOptions} plus the endpoint. */
export interface TokenEndpoint {
  readonly url: string;
  readonly refreshMarginMs: number;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  readonly defaultExpiresInS: number;
  readonly scheduler: SchedulerLike;
  /** The scheduler the caller injected, if any (refresh timers run on it as given). */
  readonly injectedScheduler: SchedulerLike | undefined;
  readonly fetch: TokenFetch | undefined;
}

/** Transient token failures: no HTTP answer at all (network, timeout), or 408, 429, 5xx. */
export function isTransientTokenError(error: AthenaError): boolean {
  if (!(error instanceof OAuthError)) return false;
  const status = error.httpStatus;
  return status === undefined || status === 408 || status === 429 || status >= 500;
}

export const DEFAULT_TOKEN_RETRY: Partial<RetryPolicy> = {
  maxAttempts: 5,
  initialDelayMs: 500,
  maxDelayMs: 15_000,
  multiplier: 2,
  budgetMs: 60_000,
  retryable: isTransientTokenError,
};

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Validates the endpoint URL and the shared options. */
export function tokenEndpoint(url: unknown, options: TokenRefreshOptions): TokenEndpoint {
  const href = assertString('tokenUrl', url);
  let parsed: URL;
  try {
    parsed = new URL(href);
  } catch {
    throw new TypeError('tokenUrl must be an absolute URL');
  }
  const loopback = LOOPBACK.has(parsed.hostname);
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback)) {
    throw new RangeError('tokenUrl must use https (plain http is accepted for loopback hosts only)');
  }
  if (parsed.username || parsed.password) throw new RangeError('tokenUrl must not carry user info');
  const refreshMarginMs = assertNumber('refreshMarginMs', options.refreshMarginMs ?? 60_000, 0);
  const timeoutMs = assertNumber('timeoutMs', options.timeoutMs ?? 30_000, 1, MAX_TIMER_MS);
  const defaultExpiresInS = assertNumber('defaultExpiresInS', options.defaultExpiresInS ?? 3600, 1);
  const scheduler = options.scheduler ?? asyncScheduler;
  if (typeof scheduler?.now !== 'function' || typeof scheduler.schedule !== 'function') {
    throw new TypeError('scheduler must be an RxJS SchedulerLike');
  }
  if (options.fetch !== undefined) assertFunction('fetch', options.fetch);
  else if (typeof globalThis.fetch !== 'function') {
    throw new TypeError('no global fetch: pass a fetch function');
  }
  return {
    url: parsed.href,
    refreshMarginMs,
    retry: retryPolicy({ ...DEFAULT_TOKEN_RETRY, ...options.retry }),
    timeoutMs,
    defaultExpiresInS,
    scheduler,
    injectedScheduler: options.scheduler,
    fetch: options.fetch,
  };
}

/** A required credential: a non-empty string. The message never shows the value. */
export function assertSecret(name: string, value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string`);
  if (value.length === 0) throw new RangeError(`${name} must not be empty`);
  return value;
}

/** An optional non-empty string parameter. */
export function optionalString(name: string, value: unknown): string | undefined {
  return value === undefined ? undefined : assertString(name, value);
}

/** The options object itself. */
export function assertOptions(name: string, value: unknown): void {
  if (typeof value !== 'object' || value === null) throw new TypeError(`${name} options must be an object`);
}
