/**
 * Without `@opentelemetry/api` (made unresolvable in a child process), the client, `classify` and a
 * whole pipeline with `traceImages` work as before: no error, no unhandled rejection, no item carries a
 * trace, and nothing of OpenTelemetry is loaded or registered.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');

function runChild(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        join(root, 'spec/fixtures/telemetry/hide-otel.mjs'),
        join(root, 'spec/fixtures/telemetry/without-otel.ts'),
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], timeout: 90_000, killSignal: 'SIGKILL' },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('telemetry without @opentelemetry/api', () => {
  it('records nothing, loads nothing and fails nothing', async () => {
    const { code, stdout, stderr } = await runChild();
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      direct: 'ERR_MODULE_NOT_FOUND',
      api: 'absent',
      globals: [],
      classified: 8,
      pipeline: ['classified', 'classified', 'decode'],
      traced: 0,
      single: 'absent-single',
      deployments: true,
      rejected: 0,
    });
  }, 100_000);
});
