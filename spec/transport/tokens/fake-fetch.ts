/**
 * A token endpoint in virtual time: each request is recorded (URL, form, signal, scheduler time) and
 * answered with whatever Observable the test hands out, usually `cold(...)` from `TestScheduler.run`.
 */
import { of, type Observable, type SchedulerLike } from 'rxjs';
import type { TokenFetch, TokenHttpResponse } from '../../../src/transport/clientCredentials.js';

export interface RecordedCall {
  readonly url: string;
  readonly form: Record<string, string>;
  readonly headers: Record<string, string>;
  readonly signal: AbortSignal;
  readonly at: number;
}

export function fakeFetch(
  scheduler: SchedulerLike,
  respond: (call: RecordedCall, index: number) => Observable<TokenHttpResponse>,
): { fetch: TokenFetch; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const fetch: TokenFetch = (url, init) => {
    const call: RecordedCall = {
      url,
      form: Object.fromEntries(new URLSearchParams(init.body)),
      headers: init.headers,
      signal: init.signal,
      at: scheduler.now(),
    };
    calls.push(call);
    return respond(call, calls.length - 1);
  };
  return { fetch, calls };
}

/** An HTTP answer whose body is read synchronously, so it stays in virtual time. */
export function answer(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): TokenHttpResponse {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return { status, headers: new Headers(headers), text: () => of(text) };
}

/** A successful token answer. */
export function tokenAnswer(accessToken: string, expiresIn: number, extra: Record<string, unknown> = {}) {
  return answer(200, { access_token: accessToken, token_type: 'Bearer', expires_in: expiresIn, ...extra });
}
