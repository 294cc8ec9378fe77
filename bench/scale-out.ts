/**
 * Section 10, scale-out: the same images classified by one `athena-rx classify` process, then
 * through a Redis queue by one and by two `athena-rx worker` processes, all against one server
 * process; wall time from start to the last process's exit, and Redis commands per image
 * (`INFO commandstats` before and after).
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { lastValueFrom } from 'rxjs';
import { enqueue } from '../src/queue/index.js';
import { startRedis } from '../spec/support/redis.js';
import type { CorpusFile } from './corpus.js';
import type { ServerProcess } from './server.js';
import { now } from './stats.js';

/** Refs per chunk: small enough that two workers share a few hundred images evenly. */
export const CHUNK_SIZE = 25;

/** One configuration's run. */
export interface ScaleOutRun {
  readonly label: string;
  readonly processes: number;
  readonly images: number;
  readonly wallS: number;
  readonly imagesPerS: number;
  /** Redis commands per image (none for classify). */
  readonly redisPerImage?: number;
  /** The commands that made up most of them, per image. */
  readonly topCommands?: readonly { readonly name: string; readonly perImage: number }[];
}

export interface ScaleOutResults {
  readonly runs: readonly ScaleOutRun[];
  readonly corpusFiles: number;
}

/** Runs processes together; resolves with the wall time once all exited with code 0. */
async function runTogether(commands: readonly string[][]): Promise<number> {
  const started = now();
  await Promise.all(
    commands.map(
      (args) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
          let err = '';
          child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err = (err + chunk).slice(-2000)));
          child.once('exit', (code) =>
            code === 0 ? resolve() : reject(new Error(`${args[1]} exited with ${code}: ${err}`)),
          );
        }),
    ),
  );
  return (now() - started) / 1000;
}

/** Measures classify against one and two workers on `images` copies of the corpus. */
export async function measureScaleOut(
  repoRoot: string,
  files: readonly CorpusFile[],
  server: ServerProcess,
  images: number,
  log: (text: string) => void,
): Promise<ScaleOutResults> {
  const cli = join(repoRoot, 'dist', 'cli', 'main.js');
  const dir = await mkdtemp(join(tmpdir(), 'athena-scale-out-'));
  const redis = await startRedis();
  try {
    const inbox = join(dir, 'inbox');
    await import('node:fs/promises').then((fs) => fs.mkdir(inbox));
    for (let i = 0; i < images; i++) {
      const file = files[i % files.length]!;
      await copyFile(file.path, join(inbox, `${String(i).padStart(5, '0')}${extname(file.name)}`));
    }
    const { url } = redis;
    const service = ['--address', server.address, '--insecure', '--affiliate', 'bench'];
    const runs: ScaleOutRun[] = [];

    log(`10. classify, 1 process, ${images} images`);
    const classifyS = await runTogether([
      [cli, 'classify', ...service, '--format', 'jsonl', '--no-progress', inbox],
    ]);
    runs.push({
      label: '`athena-rx classify`',
      processes: 1,
      images,
      wallS: classifyS,
      imagesPerS: images / classifyS,
    });

    for (const workers of [1, 2]) {
      const run = `bench-${workers}`;
      await lastValueFrom(enqueue({ redis: url, run, inputs: [inbox], chunkSize: CHUNK_SIZE }));
      const before = await redis.commandCalls();
      log(`10. ${workers} worker process(es), ${images} images`);
      const worker = [cli, 'worker', '--redis', url, ...service, '--until-idle'];
      const wallS = await runTogether(Array.from({ length: workers }, () => worker));
      const after = await redis.commandCalls();
      const deltas = Object.entries(after).map(([name, calls]) => ({
        name,
        perImage: (calls - (before[name] ?? 0)) / images,
      }));
      const total = deltas.reduce((sum, d) => sum + d.perImage, 0);
      runs.push({
        label: `\`athena-rx worker\` x${workers}`,
        processes: workers,
        images,
        wallS,
        imagesPerS: images / wallS,
        redisPerImage: total,
        topCommands: deltas
          .filter((d) => d.perImage > 0)
          .sort((a, b) => b.perImage - a.perImage)
          .slice(0, 5),
      });
    }
    return { runs, corpusFiles: files.length };
  } finally {
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
