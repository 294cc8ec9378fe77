/**
 * HTTP(S) requests for tests that trust a private CA: node:http / node:https with `ca`, no global
 * state (no NODE_EXTRA_CA_CERTS needed in this process). Every request has a 10 s timeout.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TokenFetch } from '../../src/transport/clientCredentials.js';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: () => Record<string, unknown>;
}

/** Sends one request; `ca` is trusted for https URLs. */
export function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; ca?: string } = {},
): Promise<HttpAnswer> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        timeout: 10_000,
        agent: false,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text) as Record<string, unknown>,
          });
        });
        res.once('error', reject);
      },
    );
    req.once('timeout', () => req.destroy(new Error(`no answer from ${url} within 10 s`)));
    req.once('error', reject);
    req.end(options.body);
  });
}

/** POSTs a form-encoded client-credentials request and returns the answer. */
export function postForm(url: string, fields: Record<string, string>, ca?: string): Promise<HttpAnswer> {
  return send(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    ...(ca === undefined ? {} : { ca }),
  });
}

/** A `fetch` for `clientCredentials` that trusts `ca`. */
export function fetchTrusting(ca: string): TokenFetch {
  return async (url, init) => {
    const answer = await send(url, { method: init.method, headers: init.headers, body: init.body, ca });
    return {
      status: answer.status,
      headers: {
        get: (name: string) => {
          const value = answer.headers[name.toLowerCase()];
          return Array.isArray(value) ? value.join(', ') : (value ?? null);
        },
      },
      text: () => Promise.resolve(answer.text),
    };
  };
}
