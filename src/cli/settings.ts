/**
 * Connection settings for the CLI: flags first, then the environment. Secrets are read here and only
 * handed to token sources; nothing in this module prints them.
 */
export interface ConnectionFlags {
  address?: string;
  insecure?: boolean;
  clientId?: string;
  clientSecret?: string;
  tokenUrl?: string;
  audience?: string;
  token?: string;
  affiliate?: string;
  deployment?: string;
}

export interface ConnectionSettings {
  address: string | undefined;
  insecure: boolean;
  affiliate: string | undefined;
  deployment: string | undefined;
  auth:
    | { kind: 'none' }
    | { kind: 'token'; token: string }
    | {
        kind: 'client-credentials';
        clientId: string;
        clientSecret: string;
        tokenUrl?: string;
        audience?: string;
      };
}

export const ENVIRONMENT_VARIABLES = [
  'ATHENA_ADDRESS',
  'ATHENA_CLIENT_ID',
  'ATHENA_CLIENT_SECRET',
  'ATHENA_TOKEN_URL',
  'ATHENA_AUDIENCE',
  'ATHENA_TOKEN',
  'ATHENA_AFFILIATE',
  'ATHENA_DEPLOYMENT_ID',
] as const;

type Env = Readonly<Record<string, string | undefined>>;

function pick(
  flag: string | undefined,
  env: Env,
  name: (typeof ENVIRONMENT_VARIABLES)[number],
): string | undefined {
  const value = flag ?? env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** Resolves settings; throws an Error naming what is missing (never a secret's value). */
export function resolveSettings(flags: ConnectionFlags, env: Env): ConnectionSettings {
  const clientId = pick(flags.clientId, env, 'ATHENA_CLIENT_ID');
  const clientSecret = pick(flags.clientSecret, env, 'ATHENA_CLIENT_SECRET');
  const token = pick(flags.token, env, 'ATHENA_TOKEN');
  let auth: ConnectionSettings['auth'] = { kind: 'none' };
  if (token !== undefined) {
    auth = { kind: 'token', token };
  } else if (clientId !== undefined || clientSecret !== undefined) {
    if (clientId === undefined || clientSecret === undefined) {
      throw new Error(
        'client credentials need both a client id and a client secret (ATHENA_CLIENT_ID, ATHENA_CLIENT_SECRET)',
      );
    }
    const tokenUrl = pick(flags.tokenUrl, env, 'ATHENA_TOKEN_URL');
    const audience = pick(flags.audience, env, 'ATHENA_AUDIENCE');
    auth = {
      kind: 'client-credentials',
      clientId,
      clientSecret,
      ...(tokenUrl === undefined ? {} : { tokenUrl }),
      ...(audience === undefined ? {} : { audience }),
    };
  }
  return {
    address: pick(flags.address, env, 'ATHENA_ADDRESS'),
    insecure: flags.insecure === true,
    affiliate: pick(flags.affiliate, env, 'ATHENA_AFFILIATE'),
    deployment: pick(flags.deployment, env, 'ATHENA_DEPLOYMENT_ID'),
    auth,
  };
}
