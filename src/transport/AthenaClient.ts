/**
 * `AthenaClient`: one grpc-js channel to an Athena-compatible service, its three RPCs as cold
 * Observables, and the credentials and metadata every call carries.
 */
import {
  type CallOptions,
  type ChannelOptions,
  type ClientUnaryCall,
  makeGenericClientConstructor,
  Metadata,
  type ServiceError,
  connectivityState,
  status,
} from '@grpc/grpc-js';
import {
  type Observable,
  catchError,
  concatMap,
  defer,
  finalize,
  map,
  of,
  take,
  throwError,
  timeout,
} from 'rxjs';
import { AthenaError } from '../errors.js';
import { type ClassifierServiceClient, ClassifierServiceService } from '../generated/athena/athena.js';
import {
  type ClassificationInput,
  type ClassificationOutput,
  type ClassifyRequest,
  type ClassifyResponse,
  type Deployment,
} from '../generated/athena/models.js';
import { assertInteger, assertString } from '../internal/core/validate.js';
import { bidiCall, callError, type TrackCall, unaryCall } from './calls.js';
import {
  DEFAULT_ADDRESS,
  DEFAULT_CHANNEL_OPTIONS,
  channelCredentials,
  isLoopbackAddress,
  whenConnected,
  whenReady,
} from './channel.js';
import {
  type AccessToken,
  type ClassifySingleClient,
  type ClassifySingleOptions,
  type ClassifyStreamClient,
  type ClassifyStreamHooks,
  type TokenSource,
} from './contracts.js';
import { type TokenLease } from '../internal/tokens/manager.js';
import { tokenLease } from '../internal/tokens/source.js';
import { tokenCallCredentials } from './credentials.js';
import { validateDeploymentId } from './deployments.js';
import { encodeClassifyRequest } from './request-encoder.js';
import { CLIENT_LANGUAGE, CLIENT_VERSION } from './version.js';
import { telemetrySetup, type TelemetryOptions } from '../telemetry/options.js';
import { unaryTelemetry, type UnaryTelemetry } from '../telemetry/unary.js';

/** The generated client, with requests of the stream encoded by {@link encodeClassifyRequest}. */
const ServiceClient = makeGenericClientConstructor(
  {
    ...ClassifierServiceService,
    classify: { ...ClassifierServiceService.classify, requestSerialize: encodeClassifyRequest },
  },
  'athena.ClassifierService',
) as unknown as typeof ClassifierServiceClient;

/**
 * Options of {@link AthenaClient}. `tracerProvider` and `meterProvider` (default: the global providers
 * of `@opentelemetry/api`, when installed) receive a span per `ClassifySingle` and `ListDeployments`
 * call and their metrics; the spans of `classify` streams are configured on `classify`.
 */
export interface AthenaClientOptions extends TelemetryOptions {
  /** gRPC target, `host:port` (default `api.athena-risk-intelligence.com:443`). */
  readonly address?: string;
  /** Where the bearer token comes from; calls carry `authorization: <tokenType> <accessToken>`. */
  readonly credentials?: TokenSource;
  /** Plaintext HTTP/2 instead of TLS (default false). With `credentials`, loopback addresses only. */
  readonly insecure?: boolean;
  /** Allows sending a token over plaintext to a non-loopback address (default false; never in production). */
  readonly allowInsecureCredentials?: boolean;
  /** PEM certificates to trust instead of the system's roots (a private CA, a test server). */
  readonly rootCerts?: Buffer | string;
  /** grpc-js channel options, overriding the defaults key by key (see `DEFAULT_CHANNEL_OPTIONS`). */
  readonly channelOptions?: ChannelOptions;
  /** Extra metadata sent with every call (not `authorization`: use `credentials`). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Deadline of unary calls in ms, from subscription to answer, one retry included (default 120 s). */
  readonly defaultDeadlineMs?: number;
  /**
   * How long a call waits for the channel to connect before failing `UNAVAILABLE` (default 20 s).
   * Calls do not wait for a channel whose last attempt failed: they fail at once with its reason.
   */
  readonly connectTimeoutMs?: number;
}

/**
 * A client of the Athena `ClassifierService` owning one grpc-js channel, TLS unless `insecure`.
 * Every method returns a cold Observable: the call starts on subscribe and is cancelled on unsubscribe.
 * Failed calls error with an `AthenaError` whose `code` is the gRPC status name and `status` its number.
 *
 * @example
 * ```ts
 * import { createAthenaClient, clientCredentials } from 'athena-rx/transport';
 *
 * const client = createAthenaClient({ credentials: clientCredentials({ clientId, clientSecret }) });
 * client.listDeployments().subscribe((deployments) => console.log(deployments));
 * ```
 */
export class AthenaClient implements ClassifyStreamClient, ClassifySingleClient {
  /** The gRPC target this client connects to. */
  readonly address: string;
  /** `classifyStream` reports when the call opened and when each request's bytes left the client. */
  readonly acknowledgesWrites = true;
  private readonly grpc: ClassifierServiceClient;
  private readonly tokens: TokenLease | undefined;
  private readonly callOptions: Pick<CallOptions, 'credentials'>;
  private readonly extraMetadata: ReadonlyArray<readonly [string, string]>;
  private readonly deadlineMs: number;
  private readonly connectTimeoutMs: number;
  private readonly open = new Set<(error: AthenaError) => void>();
  private readonly telemetry: UnaryTelemetry;
  private closed = false;

  constructor(options: AthenaClientOptions = {}) {
    this.address = assertString('address', options.address ?? DEFAULT_ADDRESS);
    const insecure = options.insecure === true;
    this.deadlineMs = assertInteger('defaultDeadlineMs', options.defaultDeadlineMs ?? 120_000, 1);
    this.connectTimeoutMs = assertInteger('connectTimeoutMs', options.connectTimeoutMs ?? 20_000, 1);
    if (insecure && options.rootCerts !== undefined) {
      throw new TypeError('rootCerts cannot be used with insecure: true');
    }
    if (options.credentials !== undefined && typeof options.credentials.subscribe !== 'function') {
      throw new TypeError('credentials must be a token source (an Observable of access tokens)');
    }
    this.extraMetadata = Object.entries(options.metadata ?? {}).map(([key, value]) => {
      if (key.toLowerCase() === 'authorization') {
        throw new TypeError('metadata must not set authorization; pass a token source as credentials');
      }
      return [key, assertString(`metadata['${key}']`, value, { allowEmpty: true })] as const;
    });
    if (
      insecure &&
      options.credentials !== undefined &&
      options.allowInsecureCredentials !== true &&
      !isLoopbackAddress(this.address)
    ) {
      throw new AthenaError(
        'INSECURE_TRANSPORT',
        `refusing to send credentials over plaintext to ${this.address}: use TLS, a loopback address, ` +
          'or allowInsecureCredentials: true',
      );
    }
    this.telemetry = unaryTelemetry(telemetrySetup(options), this.address);
    this.tokens = options.credentials === undefined ? undefined : tokenLease(options.credentials);
    this.callOptions = this.tokens === undefined ? {} : { credentials: tokenCallCredentials(this.tokens) };
    this.grpc = new ServiceClient(this.address, channelCredentials(insecure, options.rootCerts), {
      ...DEFAULT_CHANNEL_OPTIONS,
      ...options.channelOptions,
    });
  }

  /** True once {@link AthenaClient.close} was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** The active deployments with their backlog (`ListDeployments`). */
  listDeployments(): Observable<Deployment[]> {
    return this.telemetry
      .call(
        'ListDeployments',
        this.unary<{ deployments: Deployment[] }>(
          'ListDeployments',
          this.deadlineMs,
          (metadata, options, cb) => this.grpc.listDeployments({}, metadata, options, cb),
        ),
      )
      .pipe(map((response) => response.deployments));
  }

  /** Classifies one image without a deployment (`ClassifySingle`); errors of the image come in the output. */
  classifySingle(
    input: ClassificationInput,
    options: ClassifySingleOptions = {},
  ): Observable<ClassificationOutput> {
    const deadlineMs = assertInteger('deadlineMs', options.deadlineMs ?? this.deadlineMs, 1);
    return this.telemetry.call(
      'ClassifySingle',
      this.unary<ClassificationOutput>('ClassifySingle', deadlineMs, (metadata, callOptions, cb) =>
        this.grpc.classifySingle(input, metadata, callOptions, cb),
      ),
      input.data.length,
    );
  }

  /**
   * One bidirectional `Classify` stream for `deploymentId` per subscription (see `ClassifyStreamClient`).
   * Requests without a deployment id get `deploymentId`; a request for another deployment errors the
   * stream (`INVALID_INPUT`), as the service would abort it. On `UNAUTHENTICATED` the token source is
   * asked to refresh before the error is delivered, so the caller's reconnect uses the new token.
   */
  classifyStream(
    deploymentId: string,
    requests: Observable<ClassifyRequest>,
    hooks: ClassifyStreamHooks = {},
  ): Observable<ClassifyResponse> {
    validateDeploymentId(deploymentId);
    // A request without a deployment id is written with this stream's; `hooks.written` still gets the
    // object `requests` emitted.
    const originals = new WeakMap<ClassifyRequest, ClassifyRequest>();
    const stamped = requests.pipe(
      map((request) => {
        if (request.deploymentId === deploymentId) return request;
        if (request.deploymentId === '') {
          const copy = { ...request, deploymentId };
          originals.set(copy, request);
          return copy;
        }
        throw new AthenaError(
          'INVALID_INPUT',
          `a request for another deployment was written to ${deploymentId}`,
        );
      }),
    );
    return defer(() => {
      let used: AccessToken | undefined;
      const open = (token: AccessToken | undefined) => {
        used = token;
        return this.grpc.classify(this.metadata(), this.callOptions);
      };
      let ended = false;
      return bidiCall('Classify', this.track, this.prepare(undefined), open, stamped, {
        // A call started on a channel that lost its connection fails at once: it is open only once
        // the channel is ready, so nothing counts as sent into an outage.
        opened: () => whenReady(this.grpc, () => !ended && hooks.opened?.()),
        written: (request) => hooks.written?.(originals.get(request) ?? request),
      }).pipe(
        catchError((error: AthenaError) => {
          if (error.code === 'UNAUTHENTICATED') this.tokens?.invalidate(used);
          return throwError(() => error);
        }),
        finalize(() => (ended = true)),
      );
    });
  }

  /**
   * Connects the channel if it is idle and completes once it is `READY`, without making a call. Errors
   * `UNAVAILABLE` when the connection attempt failed or did not finish within `timeoutMs` (default
   * `connectTimeoutMs`), `CLOSED` once the client is closed. Used by `checkHealth`.
   */
  probeConnection(timeoutMs: number = this.connectTimeoutMs): Observable<void> {
    assertInteger('timeoutMs', timeoutMs, 1);
    return defer(() => {
      if (this.closed) return throwError(() => new AthenaError('CLOSED', 'the client is closed'));
      return whenConnected(this.grpc, this.address, timeoutMs).pipe(
        map(() => {
          if (this.grpc.getChannel().getConnectivityState(false) === connectivityState.READY) return;
          throw new AthenaError('UNAVAILABLE', `could not connect to ${this.address}`, {
            status: status.UNAVAILABLE,
          });
        }),
      );
    });
  }

  /**
   * Makes sure a token can be had, as a call would: emits the expiry (epoch ms) of the token the client
   * holds or fetches now, `undefined` without credentials, then completes; errors as the token source
   * does. The token itself is not exposed. Used by `checkHealth`.
   */
  probeToken(): Observable<{ readonly expiresAt: number } | undefined> {
    return defer(() => {
      if (this.closed) return throwError(() => new AthenaError('CLOSED', 'the client is closed'));
      if (this.tokens === undefined) return of(undefined);
      return this.tokens.ready().pipe(
        take(1),
        map((token) => ({ expiresAt: token.expiresAt })),
      );
    });
  }

  /**
   * Closes the channel. Calls still open end with an `AthenaError` `CLOSED`; later calls fail with
   * `CLOSED`. The token source is unsubscribed. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const error = new AthenaError('CLOSED', 'the client was closed');
    for (const abort of [...this.open]) abort(error);
    this.open.clear();
    this.tokens?.dispose();
    this.grpc.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  private readonly track: TrackCall = (abort) => {
    this.open.add(abort);
    return () => this.open.delete(abort);
  };

  private metadata(): Metadata {
    const metadata = new Metadata();
    metadata.set('x-client-version', CLIENT_VERSION);
    metadata.set('x-client-language', CLIENT_LANGUAGE);
    for (const [key, value] of this.extraMetadata) metadata.add(key, value);
    return metadata;
  }

  /** Emits the token the call will use (undefined without credentials) once the channel can take it. */
  private prepare(deadline: number | undefined): Observable<AccessToken | undefined> {
    return defer(() => {
      if (this.closed) return throwError(() => new AthenaError('CLOSED', 'the client is closed'));
      const token$: Observable<AccessToken | undefined> =
        this.tokens === undefined ? defer(async () => undefined) : this.telemetry.auth(this.tokens.ready());
      const connectMs =
        deadline === undefined
          ? this.connectTimeoutMs
          : Math.min(this.connectTimeoutMs, deadline - Date.now());
      return token$.pipe(
        concatMap((token) =>
          whenConnected(this.grpc, this.address, Math.max(1, connectMs)).pipe(map(() => token)),
        ),
      );
    });
  }

  private callOptionsFor(token: AccessToken | undefined): Pick<CallOptions, 'credentials'> {
    return token === undefined
      ? this.callOptions
      : { credentials: tokenCallCredentials({ current: () => token }) };
  }

  private unary<T>(
    operation: string,
    deadlineMs: number,
    start: (
      metadata: Metadata,
      options: CallOptions,
      callback: (error: ServiceError | null, response?: T) => void,
    ) => ClientUnaryCall,
  ): Observable<T> {
    return defer(() => {
      const deadline = Date.now() + deadlineMs;
      const attempt = (retry: boolean): Observable<T> =>
        this.prepare(deadline).pipe(
          timeout({
            first: Math.max(1, deadline - Date.now()),
            with: () =>
              throwError(
                () =>
                  new AthenaError(
                    'DEADLINE_EXCEEDED',
                    `${operation} failed: the deadline passed before the call could start`,
                    {
                      status: status.DEADLINE_EXCEEDED,
                    },
                  ),
              ),
          }),
          concatMap((token) =>
            this.telemetry
              .rpc(
                operation,
                unaryCall<T>(operation, this.track, (cb) =>
                  // The call carries the token it was prepared with, so a refusal names the token it refused.
                  start(this.metadata(), { ...this.callOptionsFor(token), deadline }, cb),
                ),
              )
              .pipe(
                catchError((error: unknown) => {
                  const typed = callError(error, operation);
                  if (retry && typed.code === 'UNAUTHENTICATED' && this.tokens?.invalidate(token))
                    return attempt(false);
                  return throwError(() => typed);
                }),
              ),
          ),
        );
      return attempt(true);
    });
  }
}

/** Creates an {@link AthenaClient}; the same as `new AthenaClient(options)`. */
export function createAthenaClient(options: AthenaClientOptions = {}): AthenaClient {
  return new AthenaClient(options);
}
