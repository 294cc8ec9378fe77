/**
 * A throwaway certificate authority and a server certificate it signed, for serving TLS on loopback
 * (`athena-rx serve --tls-self-signed DIR`, `startAthenaServer`): clients trust `ca.pem` and connect to
 * `localhost` or `127.0.0.1`.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { assertString } from '../internal/core/validate.js';

/** What {@link createSelfSignedTls} made: PEM texts, and the files when written to a folder. */
export interface SelfSignedTls {
  /** The server's private key (PKCS#8 PEM). */
  readonly key: string;
  /** The server certificate (PEM), for `localhost`, `127.0.0.1` and `::1`, signed by `ca`. */
  readonly cert: string;
  /** The CA certificate (PEM) to trust. */
  readonly ca: string;
  /** Paths of `ca.pem`, `ca-key.pem`, `server.pem` and `server-key.pem`, when a folder was given. */
  readonly files?: {
    readonly ca: string;
    readonly caKey: string;
    readonly cert: string;
    readonly key: string;
  };
}

const DAY_MS = 86_400_000;

/**
 * Makes a fresh CA (P-256, valid 90 days) and a server certificate it signed for `localhost`,
 * `127.0.0.1` and `::1` (serverAuth). With `dir`, writes `ca.pem`, `ca-key.pem`, `server.pem` and
 * `server-key.pem` there (the folder is created; key files are readable by the owner only), so a client
 * can trust `DIR/ca.pem` (`GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`, `NODE_EXTRA_CA_CERTS`, `SSL_CERT_FILE`).
 *
 * @example
 * ```ts
 * import { createSelfSignedTls, startAthenaServer } from 'athena-rx/testing';
 *
 * const tls = await createSelfSignedTls('/tmp/athena-tls');
 * const server = await startAthenaServer({ tls });
 * // a client trusts tls.ca (or /tmp/athena-tls/ca.pem) and connects to localhost:<server.port>
 * ```
 * @param dir - Folder to write the PEM files into; none: only returned.
 */
export async function createSelfSignedTls(dir?: string): Promise<SelfSignedTls> {
  if (dir !== undefined) assertString('dir', dir);
  const notBeforeDate = new Date(Date.now() - 3_600_000);
  const notAfterDate = new Date(Date.now() + 90 * DAY_MS);
  const base = { keyType: 'ec', curve: 'P-256', algorithm: 'sha256', notBeforeDate, notAfterDate } as const;
  const ca = await generate([{ name: 'commonName', value: 'athena-rx local CA' }], {
    ...base,
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    ...base,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  const made = { key: server.private, cert: server.cert, ca: ca.cert };
  if (dir === undefined) return made;
  await mkdir(dir, { recursive: true });
  const files = {
    ca: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca-key.pem'),
    cert: join(dir, 'server.pem'),
    key: join(dir, 'server-key.pem'),
  };
  const write = async (path: string, text: string, mode: number): Promise<void> => {
    await writeFile(path, text, { mode });
    await chmod(path, mode); // an existing file keeps its mode otherwise
  };
  await write(files.ca, ca.cert, 0o644);
  await write(files.cert, server.cert, 0o644);
  await write(files.caKey, ca.private, 0o600);
  await write(files.key, server.private, 0o600);
  return { ...made, files };
}
