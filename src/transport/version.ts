/**
 * The client's identity as sent in `x-client-version` / `x-client-language` on every call.
 *
 * The version is read from the package's own `package.json` at load time. Both `src/transport/` and
 * `dist/transport/` sit two levels below the package root, so the same relative path works from the
 * sources (tests, tsx) and from the build, and the JSON never has to be imported as a module.
 */
import { createRequire } from 'node:module';

function readVersion(): string {
  try {
    const manifest = createRequire(import.meta.url)('../../package.json') as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The version of athena-rx, as in its `package.json`. */
export const LIBRARY_VERSION: string = readVersion();

/** The value of the `x-client-version` metadata: `athena-rx/<version>`. */
export const CLIENT_VERSION: string = `athena-rx/${LIBRARY_VERSION}`;

/** The value of the `x-client-language` metadata. */
export const CLIENT_LANGUAGE = 'typescript';
