/**
 * A child process for the token lifetime spec: gets a token from the OAuth issuer named in its
 * environment through an AthenaClient, makes one call to the Athena server named there, and never
 * closes the client. It must then exit by itself.
 */
import { firstValueFrom } from 'rxjs';
import { AthenaClient, clientCredentials } from '../../src/transport/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const client = new AthenaClient({
  address: env('ATHENA_ADDRESS'),
  insecure: true,
  credentials: clientCredentials({
    tokenUrl: env('TOKEN_URL'),
    clientId: env('CLIENT_ID'),
    clientSecret: env('CLIENT_SECRET'),
    audience: env('AUDIENCE'),
  }),
});
const deployments = await firstValueFrom(client.listDeployments());
process.stdout.write(`listed ${deployments.length}\n`);
