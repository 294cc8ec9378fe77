/**
 * Per-connection accounting of the gateway, as data: the images one browser connection has in
 * flight, their bytes, and a token bucket for its rate. `admit` and `settle` are pure; the
 * connection keeps the account and feeds them the scheduler's time.
 */
import type { WireLimits } from './protocol.js';

export interface Account {
  /** Bytes of each image admitted and not yet answered, by the browser's id. */
  readonly inFlight: ReadonlyMap<string, number>;
  readonly bytes: number;
  /** Tokens of the rate bucket at `at` (ms). */
  readonly tokens: number;
  readonly at: number;
}

export interface Refusal {
  readonly code: 'RESOURCE_EXHAUSTED' | 'DUPLICATE_ID';
  readonly message: string;
}

export function openAccount(limits: WireLimits, now: number): Account {
  return { inFlight: new Map(), bytes: 0, tokens: limits.burst, at: now };
}

/** Admits one image or says why not; a refused image costs no token. */
export function admit(
  limits: WireLimits,
  account: Account,
  id: string,
  bytes: number,
  now: number,
): { readonly account: Account } | { readonly refusal: Refusal } {
  if (account.inFlight.has(id)) {
    return { refusal: { code: 'DUPLICATE_ID', message: `${id} is already in flight on this connection` } };
  }
  if (account.inFlight.size >= limits.maxInFlight) {
    return exhausted(
      `${id}: ${account.inFlight.size} images in flight, at most ${limits.maxInFlight} are allowed`,
    );
  }
  if (account.bytes + bytes > limits.maxBytesInFlight) {
    return exhausted(
      `${id}: ${account.bytes + bytes} bytes in flight, at most ${limits.maxBytesInFlight} are allowed`,
    );
  }
  const elapsed = Math.max(0, now - account.at);
  const tokens = Math.min(limits.burst, account.tokens + (elapsed * limits.ratePerSecond) / 1000);
  if (tokens < 1) {
    return exhausted(`${id}: more than ${limits.ratePerSecond} images per second (burst ${limits.burst})`);
  }
  const inFlight = new Map(account.inFlight).set(id, bytes);
  return { account: { inFlight, bytes: account.bytes + bytes, tokens: tokens - 1, at: now } };
}

/** Frees what an answered image held. */
export function settle(account: Account, id: string): Account {
  const bytes = account.inFlight.get(id);
  if (bytes === undefined) return account;
  const inFlight = new Map(account.inFlight);
  inFlight.delete(id);
  return { ...account, inFlight, bytes: account.bytes - bytes };
}

function exhausted(message: string): { readonly refusal: Refusal } {
  return { refusal: { code: 'RESOURCE_EXHAUSTED', message } };
}
