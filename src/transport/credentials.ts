/**
 * Call credentials from a token source: one subscription per client, the latest token kept, and the
 * `authorization` metadata built from it for every call.
 */
import { type CallCredentials, Metadata, credentials as grpcCredentials } from '@grpc/grpc-js';
import { Observable, Subject, type Subscription } from 'rxjs';
import { AthenaError } from '../errors.js';
import { type AccessToken, type TokenSource } from './contracts.js';

/** How long calls wait for the token a `refresh()` should bring before they use the previous one. */
const REFRESH_WAIT_MS = 30_000;

/**
 * Holds the latest token of a {@link TokenSource}. The source is subscribed on the first call
 * (lazily) and stays subscribed until {@link TokenCache.dispose}; every emission replaces the token.
 * When the source errors, the calls waiting for a token fail with that error and the next call
 * subscribes again, so a passing outage of the token endpoint does not make the client unusable.
 */
export class TokenCache {
  private latest: AccessToken | undefined;
  private error: AthenaError | undefined;
  private stale = false;
  private staleTimer: ReturnType<typeof setTimeout> | undefined;
  private subscription: Subscription | undefined;
  private disposed = false;
  private readonly changes = new Subject<void>();

  constructor(private readonly source: TokenSource) {}

  /** The token calls should use now, if there is one. */
  current(): AccessToken | undefined {
    return this.latest;
  }

  /**
   * Emits the token to use, then completes: at once when a token is held, otherwise when the source
   * emits one (or the one a pending refresh brings). Errors with the source's error, typed.
   */
  ready(): Observable<AccessToken> {
    return new Observable<AccessToken>((subscriber) => {
      const settle = (): boolean => {
        if (this.error) subscriber.error(this.error);
        else if (this.disposed) subscriber.error(new AthenaError('CLOSED', 'the client is closed'));
        else if (this.latest && !this.stale) {
          subscriber.next(this.latest);
          subscriber.complete();
        } else return false;
        return true;
      };
      this.connect();
      if (settle()) return undefined;
      const watch = this.changes.subscribe(() => {
        if (settle()) watch.unsubscribe();
      });
      return () => watch.unsubscribe();
    });
  }

  /**
   * A call that used `used` failed `UNAUTHENTICATED`: asks the source for a fresh token (once per
   * token, however many calls fail with it) and makes the next calls wait for it. Returns false when
   * the source cannot refresh, so retrying would only fail again.
   */
  invalidate(used: AccessToken | undefined): boolean {
    const refresh = this.source.refresh;
    if (typeof refresh !== 'function') return false;
    if (used !== this.latest || this.stale) return true;
    this.stale = true;
    this.staleTimer = setTimeout(() => this.update(() => (this.stale = false)), REFRESH_WAIT_MS);
    this.staleTimer.unref?.();
    try {
      refresh.call(this.source);
    } catch (error) {
      this.fail(error);
    }
    return true;
  }

  /** Unsubscribes from the source; waiting and later calls fail with `CLOSED`. */
  dispose(): void {
    this.disposed = true;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.update(() => (this.stale = false));
    this.changes.complete();
  }

  private connect(): void {
    if (this.subscription || this.disposed) return;
    this.error = undefined;
    const subscription = this.source.subscribe({
      next: (token) =>
        this.update(() => {
          this.latest = token;
          this.stale = false;
        }),
      error: (error: unknown) => this.fail(error),
      complete: () => {
        if (!this.latest)
          this.fail(new AthenaError('OAUTH_ERROR', 'the token source completed without a token'));
      },
    });
    // A source that errored synchronously has already cleared its (not yet assigned) subscription.
    if (this.error === undefined || this.latest !== undefined) this.subscription = subscription;
  }

  private fail(error: unknown): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.update(() => {
      this.latest = undefined;
      this.stale = false;
      this.error = AthenaError.from(error, 'OAUTH_ERROR');
    });
  }

  private update(change: () => void): void {
    if (this.staleTimer !== undefined) clearTimeout(this.staleTimer);
    this.staleTimer = undefined;
    change();
    this.changes.next();
  }
}

/** The `authorization` metadata value for a token: `<tokenType> <accessToken>`. */
export function authorizationValue(token: AccessToken): string {
  return `${token.tokenType || 'Bearer'} ${token.accessToken}`;
}

/**
 * gRPC call credentials reading the cache's latest token, built once per client. Passed per call,
 * they work over TLS and, for loopback plaintext, over insecure channels too (grpc-js only refuses to
 * compose call credentials into insecure channel credentials).
 */
export function tokenCallCredentials(cache: TokenCache): CallCredentials {
  return grpcCredentials.createFromMetadataGenerator((_params, callback) => {
    const token = cache.current();
    if (!token) {
      callback(new AthenaError('UNAUTHENTICATED', 'no access token is available'));
      return;
    }
    const metadata = new Metadata();
    metadata.set('authorization', authorizationValue(token));
    callback(null, metadata);
  });
}
