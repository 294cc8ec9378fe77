/**
 * A small recording grpc-js server for the client's own specs: it keeps the metadata of every call and
 * checks bearer tokens, which the embedded Athena server does not expose. Loopback only.
 */
import { Metadata, Server, ServerCredentials, status, type ServerErrorResponse } from '@grpc/grpc-js';
import { BehaviorSubject, type Observable } from 'rxjs';
import { type ClassifierServiceServer, ClassifierServiceService } from '../../src/generated/athena/athena.js';
import {
  ClassificationOutput,
  type ClassifyRequest,
  ClassifyResponse,
} from '../../src/generated/athena/models.js';
import { type AccessToken, type TokenSource } from '../../src/transport/contracts.js';

export interface RecordedCall {
  readonly method: 'classify' | 'listDeployments' | 'classifySingle';
  readonly metadata: Record<string, string>;
}

export interface RecordingServer {
  readonly address: string;
  readonly calls: RecordedCall[];
  /** Accepted `authorization` values; empty accepts every call. */
  readonly accepted: Set<string>;
  /**
   * Correlation ids of held `classifySingle` calls (id starting with `hold`) the client cancelled. A
   * call whose id starts with `slow` is answered 150 ms after it arrived, judged on the token it carried.
   */
  readonly cancelled: string[];
  stop(): Promise<void>;
}

function flat(metadata: Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata.getMap())) out[key] = String(value);
  return out;
}

function unauthenticated(): ServerErrorResponse {
  return Object.assign(new Error('bad token'), {
    code: status.UNAUTHENTICATED,
    details: 'bad token',
    metadata: new Metadata(),
  });
}

export async function startRecordingServer(): Promise<RecordingServer> {
  const calls: RecordedCall[] = [];
  const accepted = new Set<string>();
  const cancelled: string[] = [];
  const allowed = (metadata: Metadata) =>
    accepted.size === 0 || accepted.has(String(metadata.get('authorization')[0] ?? ''));
  const server = new Server();
  const implementation: ClassifierServiceServer = {
    listDeployments: (call, callback) => {
      calls.push({ method: 'listDeployments', metadata: flat(call.metadata) });
      if (!allowed(call.metadata)) callback(unauthenticated());
      else callback(null, { deployments: [{ deploymentId: 'd-1', backlog: 2 }] });
    },
    classifySingle: (call, callback) => {
      calls.push({ method: 'classifySingle', metadata: flat(call.metadata) });
      const id = call.request.correlationId;
      if (id.startsWith('slow')) {
        const ok = allowed(call.metadata);
        setTimeout(
          () => callback(ok ? null : unauthenticated(), ClassificationOutput.create({ correlationId: id })),
          150,
        );
      } else if (!allowed(call.metadata)) callback(unauthenticated());
      else if (id.startsWith('hold')) call.on('cancelled', () => cancelled.push(id));
      else callback(null, ClassificationOutput.create({ correlationId: id }));
    },
    classify: (call) => {
      calls.push({ method: 'classify', metadata: flat(call.metadata) });
      if (!allowed(call.metadata)) {
        call.emit('error', unauthenticated());
        return;
      }
      call.on('data', (request: ClassifyRequest) => {
        const outputs = request.inputs.map((input) =>
          ClassificationOutput.create({ correlationId: input.correlationId }),
        );
        call.write(ClassifyResponse.create({ outputs }));
      });
      call.on('end', () => call.end());
    },
  };
  server.addService(ClassifierServiceService, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    calls,
    accepted,
    cancelled,
    stop: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => server.forceShutdown(), 500).unref();
      }),
  };
}

export const bearer = (accessToken: string): AccessToken => ({
  accessToken,
  tokenType: 'Bearer',
  expiresAt: Number.POSITIVE_INFINITY,
});

/** A token source that moves to the next of `tokens` when refreshed; counts its refreshes. */
export function rotatingSource(
  tokens: readonly string[],
): TokenSource & { refreshes: number; reemit: (token: AccessToken) => void } {
  const subject = new BehaviorSubject(bearer(tokens[0] ?? ''));
  let index = 0;
  const source = subject.asObservable() as Observable<AccessToken> & {
    refresh: () => void;
    refreshes: number;
    reemit: (token: AccessToken) => void;
  };
  source.reemit = (token) => subject.next(token);
  source.refreshes = 0;
  source.refresh = () => {
    source.refreshes += 1;
    index = Math.min(index + 1, tokens.length - 1);
    setTimeout(() => subject.next(bearer(tokens[index] ?? '')), 5);
  };
  return source;
}
