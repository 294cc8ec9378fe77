import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;

/**
 * Imports the built entry points in a fresh process and lists the queue's peers (BullMQ, ioredis)
 * that are loaded after the other entry points, then after `athena-rx/queue`.
 */
const script = (entries: string[]) => `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const peers = () => Object.keys(require.cache).filter((k) => /node_modules\\/(bullmq|ioredis)\\//.test(k)).length;
for (const entry of ${JSON.stringify(entries)}) await import(entry);
const before = peers();
await import(${JSON.stringify(join(root, 'dist/queue/index.js'))});
process.stdout.write(JSON.stringify({ before, after: peers() }));
`;

it('the other entry points load neither BullMQ nor ioredis; athena-rx/queue loads both', async () => {
  const entries = [
    'index',
    'operators/index',
    'sources/index',
    'transport/index',
    'testing/index',
    'cli/format',
  ].map((name) => join(root, 'dist', `${name}.js`));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', script(entries)],
    {
      cwd: root,
      timeout: 60_000,
    },
  );
  const { before, after } = JSON.parse(stdout) as { before: number; after: number };
  expect(before).toBe(0);
  // The positive control: the same check sees them once the queue entry point is imported.
  expect(after).toBeGreaterThan(0);
}, 90_000);
