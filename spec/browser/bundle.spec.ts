import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}

describe('browser entry points', () => {
  it.each(['../../src/browser/index.ts', '../../src/angular/index.ts'])(
    '%s bundles for the browser with nothing marked external and no Node module',
    async (entry) => {
      const code = await bundle(entry);
      expect(code).toContain('classifyVia');
      expect(code).not.toMatch(/from\s*["']node:|require\(["'](node:)?(fs|crypto|zlib|net|http)["']\)/);
      expect(code).not.toMatch(/["']@grpc\/grpc-js["']|["']sharp["']/);
    },
  );
});
