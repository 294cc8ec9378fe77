/**
 * The token source a client actually uses: the caller's, with every access token it emits registered
 * as a secret, so that a peer echoing the `authorization` header never gets it into a message.
 */
import { tap } from 'rxjs';
import { registerSecret } from '../internal/secrets.js';
import type { AccessToken, TokenSource } from './contracts.js';

/**
 * `source` with each token registered (`registerSecret(token.accessToken)`) before anything downstream
 * sees it. Keeps the source's `refresh()`, called on the source itself.
 */
export function withRegisteredTokens(source: TokenSource): TokenSource {
  const registered: TokenSource = source.pipe(
    tap((token: AccessToken) => registerSecret(token?.accessToken)),
  );
  const refresh = source.refresh;
  if (typeof refresh === 'function') registered.refresh = () => refresh.call(source);
  return registered;
}
