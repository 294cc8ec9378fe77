/**
 * The package beside the oldest and the newest supported major of every peer: packed once, installed
 * from the tarball with a plain `npm install` (a peer conflict, which would need --legacy-peer-deps
 * or --force, fails), then a Nest application (spec/fixtures/consumer/nest-app.ts) compiled against
 * what each consumer installed and run there against the embedded server.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installConsumer, packCheckout, root, run, type Run } from '../support/package.js';

/**
 * What each consumer project depends on besides the tarball: every peer, optional ones included,
 * at the oldest and at the newest major the package supports. `majors` is what must get installed.
 */
const CONSUMERS = {
  oldest: {
    dependencies: {
      '@angular/core': '^17.0.0',
      '@nestjs/common': '^10.0.0',
      '@nestjs/core': '^10.0.0',
      '@nestjs/platform-ws': '^10.0.0',
      '@nestjs/websockets': '^10.0.0',
      '@opentelemetry/api': '1.3.0',
      bullmq: '6.0.0',
      ioredis: '^5.4.0',
      rxjs: '7.8.0',
    },
    majors: {
      '@angular/core': 17,
      '@nestjs/common': 10,
      '@nestjs/core': 10,
      '@nestjs/platform-ws': 10,
      '@nestjs/websockets': 10,
      '@opentelemetry/api': 1,
      bullmq: 6,
      ioredis: 5,
      rxjs: 7,
    },
  },
  newest: {
    dependencies: {
      '@angular/core': '^22.0.0',
      '@nestjs/common': '^12.0.0',
      '@nestjs/core': '^12.0.0',
      '@nestjs/platform-ws': '^12.0.0',
      '@nestjs/websockets': '^12.0.0',
      '@opentelemetry/api': '^1.9.0',
      bullmq: '^6.0.0',
      ioredis: '^6.0.0',
      rxjs: '^7.8.0',
    },
    majors: {
      '@angular/core': 22,
      '@nestjs/common': 12,
      '@nestjs/core': 12,
      '@nestjs/platform-ws': 12,
      '@nestjs/websockets': 12,
      '@opentelemetry/api': 1,
      bullmq: 6,
      ioredis: 6,
      rxjs: 7,
    },
  },
} as const;
type ConsumerName = keyof typeof CONSUMERS;
const NAMES = Object.keys(CONSUMERS) as ConsumerName[];
/** What the Nest application itself needs (Nest's own required peer). */
const APP_DEPENDENCIES = { 'reflect-metadata': '^0.2.0' };
const IMAGE = join(root, 'samples/10-freshflower.jpg');
/** One export each entry point must have. */
const KEY_EXPORTS: Record<string, string> = {
  'athena-rx': 'AthenaError',
  'athena-rx/operators': 'classify',
  'athena-rx/sources': 'fromFiles',
  'athena-rx/transport': 'AthenaClient',
  'athena-rx/testing': 'startAthenaServer',
  'athena-rx/nest': 'AthenaModule',
  'athena-rx/angular': 'AthenaService',
  'athena-rx/queue': 'enqueue',
  'athena-rx/browser': 'fromFileList',
};

interface Consumer {
  install: Run;
  versions: Record<string, string>;
  compile?: Run;
  app?: Run;
}

const compilerOptions = {
  target: 'ES2022',
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  strict: true,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  // The package's declarations are checked against each Nest through their use; the peers' own are not ours.
  skipLibCheck: true,
  types: ['node'],
  typeRoots: [join(root, 'node_modules/@types')],
  outDir: 'out',
  noEmitOnError: true,
};

/** Installs, compiles and runs the application in one consumer project; stops at the first failure. */
async function prepare(dir: string, tarball: string, name: ConsumerName): Promise<Consumer> {
  const install = await installConsumer(dir, {
    'athena-rx': `file:${tarball}`,
    ...CONSUMERS[name].dependencies,
    ...APP_DEPENDENCIES,
  });
  const versions: Record<string, string> = {};
  if (install.code !== 0) return { install, versions };
  for (const peer of Object.keys(CONSUMERS[name].majors)) {
    const manifest = join(dir, 'node_modules', peer, 'package.json');
    versions[peer] = (JSON.parse(await readFile(manifest, 'utf8')) as { version: string }).version;
  }
  await copyFile(join(root, 'spec/fixtures/consumer/nest-app.ts'), join(dir, 'nest-app.ts'));
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['nest-app.ts'] }));
  const compile = await run(join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: dir });
  if (compile.code !== 0) return { install, versions, compile };
  // SIGKILL on timeout: the application keeps a SIGTERM listener of its own.
  const app = await run(process.execPath, ['out/nest-app.js', IMAGE], {
    cwd: dir,
    timeout: 90_000,
    killSignal: 'SIGKILL',
  });
  return { install, versions, compile, app };
}

let work = '';
const consumers = new Map<ConsumerName, Consumer>();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'athena-rx-peers-'));
  const packed = await packCheckout(work);
  expect(packed.result.code, packed.result.stderr).toBe(0);
  const prepared = await Promise.all(NAMES.map((name) => prepare(join(work, name), packed.tarball, name)));
  NAMES.forEach((name, i) => consumers.set(name, prepared[i] as Consumer));
}, 300_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

function consumer(name: ConsumerName): Consumer {
  const found = consumers.get(name);
  if (!found) throw new Error(`no consumer project ${name}`);
  return found;
}

interface AppReport {
  entries: Record<string, string[]>;
  runs: Record<string, Record<string, unknown>>;
  gateway: Record<string, unknown>;
}

function report(name: ConsumerName): AppReport {
  const { install, compile, app } = consumer(name);
  expect(compile, `nothing compiled: the install failed\n${install.stderr}`).toBeDefined();
  expect(compile?.code, `${compile?.stdout ?? ''}${compile?.stderr ?? ''}`).toBe(0);
  expect(app?.killed, 'the consumer application did not exit within 90 s').toBe(false);
  expect(app?.code, app?.stderr).toBe(0);
  return JSON.parse(app?.stdout ?? '') as AppReport;
}

describe('the package beside its peers', () => {
  it('tries every peer it declares, optional ones included, at an oldest and a newest major', async () => {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      peerDependencies: Record<string, string>;
    };
    const peers = Object.keys(pkg.peerDependencies).sort();
    expect(peers).toContain('rxjs');
    for (const name of NAMES) expect(Object.keys(CONSUMERS[name].majors).sort(), name).toEqual(peers);
  });

  describe.each(NAMES)('with the %s supported majors', (name) => {
    it('installs with plain npm install: no peer conflict, no override', () => {
      const { install, versions } = consumer(name);
      expect(install.code, install.stderr).toBe(0);
      expect(`${install.stdout}${install.stderr}`).not.toMatch(/ERESOLVE|overriding peer dependency/i);
      const majors = Object.fromEntries(
        Object.entries(versions).map(([peer, version]) => [peer, Number(version.split('.')[0])]),
      );
      expect(majors).toEqual(CONSUMERS[name].majors);
      if (name === 'oldest') expect(versions['rxjs']).toBe('7.8.0');
    });

    it('compiles a Nest application against the installed types and imports every entry point', () => {
      const { entries } = report(name);
      expect(Object.keys(entries).sort()).toEqual(Object.keys(KEY_EXPORTS).sort());
      for (const [entry, key] of Object.entries(KEY_EXPORTS)) expect(entries[entry], entry).toContain(key);
    });

    it('creates the browser gateway with this Nest and classifies through its one stream', () => {
      expect(report(name).gateway).toEqual({ outcome: 'classified', ref: 'consumer-1' });
    });

    it('injects a client that classifies an image, and Nest closes it on shutdown (close and SIGTERM)', () => {
      const { runs } = report(name);
      expect(Object.keys(runs)).toEqual(['forRoot', 'forRootAsync', 'forRootAsyncSignal']);
      for (const [via, result] of Object.entries(runs)) {
        expect(result, via).toEqual({
          shutdown: via === 'forRootAsyncSignal' ? 'SIGTERM' : 'close',
          injected: true,
          transportClass: true,
          tokenSource: true,
          address: true,
          outcomes: [expect.stringMatching(/^classified:[1-9]\d*$/)],
          serverOutputs: 1,
          openBeforeShutdown: true,
          closedAfterShutdown: true,
          callAfterShutdown: 'CLOSED',
        });
      }
    });
  });
});
