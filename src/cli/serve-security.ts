/**
 * `athena-rx serve`'s TLS and OAuth flags: reads them into `startAthenaServer`'s `tls` and `oauth`
 * options, and describes the result for the start-up lines. Messages never quote a secret.
 */
import { readFile } from 'node:fs/promises';
import { type AthenaServer, type AthenaServerOAuth, type AthenaServerTls } from '../testing/server.js';
import { createSelfSignedTls } from '../testing/self-signed.js';
import { parseOAuthClient } from '../testing/token-grant.js';

/** The flags, as commander hands them over. */
export interface ServeSecurityFlags {
  tlsCert?: string;
  tlsKey?: string;
  tlsSelfSigned?: string;
  oauthClient?: string[];
  oauthPort?: number;
  oauthAudience?: string;
  tokenTtl?: number;
}

/** What the flags ask for; `caFile` is the CA to trust when `--tls-self-signed` wrote one. */
export interface ServeSecurity {
  readonly tls?: AthenaServerTls;
  readonly oauth?: AthenaServerOAuth;
  readonly caFile?: string;
}

/**
 * Checks the flags' combinations, reads the PEM files or writes the self-signed set, and builds the
 * issuer's options.
 *
 * @throws TypeError for flags that do not go together (`--tls-cert` without `--tls-key`, both TLS
 *   modes, issuer flags without `--oauth-client`, a client not of the form `ID:SECRET`).
 */
export async function resolveServeSecurity(flags: ServeSecurityFlags): Promise<ServeSecurity> {
  const clients = (flags.oauthClient ?? []).map((value) => {
    try {
      return parseOAuthClient(value);
    } catch {
      throw new TypeError('--oauth-client must be ID:SECRET, both non-empty');
    }
  });
  if (clients.length === 0) {
    for (const [flag, value] of [
      ['--oauth-port', flags.oauthPort],
      ['--oauth-audience', flags.oauthAudience],
      ['--token-ttl', flags.tokenTtl],
    ] as const) {
      if (value !== undefined) throw new TypeError(`${flag} needs --oauth-client ID:SECRET`);
    }
  }
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
    throw new TypeError('--tls-cert and --tls-key go together');
  }
  if (flags.tlsCert !== undefined && flags.tlsSelfSigned !== undefined) {
    throw new TypeError('give either --tls-cert/--tls-key or --tls-self-signed, not both');
  }
  let tls: AthenaServerTls | undefined;
  let caFile: string | undefined;
  if (flags.tlsCert !== undefined && flags.tlsKey !== undefined) {
    tls = { cert: await readFile(flags.tlsCert, 'utf8'), key: await readFile(flags.tlsKey, 'utf8') };
  } else if (flags.tlsSelfSigned !== undefined) {
    const made = await createSelfSignedTls(flags.tlsSelfSigned);
    tls = { key: made.key, cert: made.cert };
    caFile = made.files?.ca;
  }
  const oauth: AthenaServerOAuth | undefined =
    clients.length === 0
      ? undefined
      : {
          clients,
          ...(flags.oauthPort === undefined ? {} : { port: flags.oauthPort }),
          ...(flags.oauthAudience === undefined ? {} : { audience: flags.oauthAudience }),
          ...(flags.tokenTtl === undefined ? {} : { tokenTtlSec: flags.tokenTtl }),
        };
  return { ...(tls && { tls }), ...(oauth && { oauth }), ...(caFile && { caFile }) };
}

/** Start-up lines about trust and the issuer (none for a plaintext server without OAuth). */
export function describeServeSecurity(server: AthenaServer, security: ServeSecurity): string {
  const lines: string[] = [];
  if (security.caFile !== undefined) lines.push(`trust the CA in ${security.caFile}`);
  const issuer = server.oauth;
  if (issuer !== undefined) {
    lines.push(
      `OAuth issuer ${issuer.issuer} (token endpoint ${issuer.tokenUrl}, audience ${issuer.audience}, ` +
        `tokens valid ${issuer.tokenTtlSec} s)`,
    );
  }
  return lines.map((line) => `${line}\n`).join('');
}
