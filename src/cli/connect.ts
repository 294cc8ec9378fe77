import { readFile } from 'node:fs/promises';
import { AthenaClient } from '../transport/AthenaClient.js';
import { clientCredentials } from '../transport/clientCredentials.js';
import type { TokenSource } from '../transport/contracts.js';
import { staticToken } from '../transport/staticToken.js';
import { startAthenaServer, type AthenaServer } from '../testing/server.js';
import type { ConnectionSettings } from './settings.js';

export interface Connection {
  readonly client: AthenaClient;
  /** The embedded server when running `--local`. */
  readonly server?: AthenaServer;
  close(): Promise<void>;
}

function tokenSource(auth: ConnectionSettings['auth']): TokenSource | undefined {
  switch (auth.kind) {
    case 'none':
      return undefined;
    case 'token':
      return staticToken(auth.token);
    case 'client-credentials':
      return clientCredentials({
        clientId: auth.clientId,
        clientSecret: auth.clientSecret,
        ...(auth.tokenUrl === undefined ? {} : { tokenUrl: auth.tokenUrl }),
        ...(auth.audience === undefined ? {} : { audience: auth.audience }),
      });
  }
}

/** Opens a client for the settings; with `local`, first starts the embedded server in this process. */
export async function connect(
  settings: ConnectionSettings,
  options: { local?: boolean; rootCertsFile?: string } = {},
): Promise<Connection> {
  if (options.local) {
    const server = await startAthenaServer();
    const client = new AthenaClient({ address: server.address, insecure: true });
    return {
      client,
      server,
      close: async () => {
        client.close();
        await server.close();
      },
    };
  }
  const credentials = tokenSource(settings.auth);
  const rootCerts = options.rootCertsFile ? await readFile(options.rootCertsFile) : undefined;
  const client = new AthenaClient({
    ...(settings.address === undefined ? {} : { address: settings.address }),
    insecure: settings.insecure,
    ...(credentials === undefined ? {} : { credentials }),
    ...(rootCerts === undefined ? {} : { rootCerts }),
  });
  return {
    client,
    close: async () => {
      client.close();
    },
  };
}
