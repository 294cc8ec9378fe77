/**
 * gRPC call credentials from tokens: the `authorization` metadata built from the token a call uses.
 * Caching, refreshing and invalidating tokens is the token manager's (src/internal/tokens/).
 */
import { type CallCredentials, Metadata, credentials as grpcCredentials } from '@grpc/grpc-js';
import { AthenaError } from '../errors.js';
import { type AccessToken } from './contracts.js';

/** The `authorization` metadata value for a token: `<tokenType> <accessToken>`. */
export function authorizationValue(token: AccessToken): string {
  return `${token.tokenType || 'Bearer'} ${token.accessToken}`;
}

/**
 * gRPC call credentials reading `tokens.current()` when a call starts, built once per client. Passed
 * per call, they work over TLS and, for loopback plaintext, over insecure channels too (grpc-js only
 * refuses to compose call credentials into insecure channel credentials).
 */
export function tokenCallCredentials(tokens: { current(): AccessToken | undefined }): CallCredentials {
  return grpcCredentials.createFromMetadataGenerator((_params, callback) => {
    const token = tokens.current();
    if (!token) {
      callback(new AthenaError('UNAUTHENTICATED', 'no access token is available'));
      return;
    }
    const metadata = new Metadata();
    metadata.set('authorization', authorizationValue(token));
    callback(null, metadata);
  });
}
