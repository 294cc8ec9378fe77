/**
 * The published package as a consumer gets it: packed from a checkout without dist/ (prepack must
 * build), installed from the tarball into an empty project, then imported, required, type-checked,
 * run and bundled for the browser from there.
 */
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installConsumer, packCheckout, root, run } from '../support/package.js';

const tsc = join(root, 'node_modules/.bin/tsc');
const ENTRY_POINTS = [
  'athena-rx',
  'athena-rx/operators',
  'athena-rx/sources',
  'athena-rx/transport',
  'athena-rx/testing',
  'athena-rx/nest',
  'athena-rx/queue',
  'athena-rx/browser',
];
const BROWSER_SAFE = ['athena-rx', 'athena-rx/operators', 'athena-rx/browser'];
/** Entry points whose whole import graph runs in a browser: not even the stub stands in for a Node module. */
const BROWSER_ONLY = new Set(['athena-rx/browser']);

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** The ```ts blocks of a markdown text, except those fenced as ```ts ignore. */
function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```(?:ts|typescript)[ \t]*\n([\s\S]*?)^```/gm)].map(
    (match) => match[1] ?? '',
  );
}

let work = '';
let consumer = '';
let installed = '';
let packedFiles: string[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'athena-rx-pack-'));
  const packed = await packCheckout(work);
  expect(packed.result.code, packed.result.stderr).toBe(0);
  packedFiles = [...packed.files];

  consumer = join(work, 'consumer');
  const install = await installConsumer(consumer, { 'athena-rx': `file:${packed.tarball}`, rxjs: '^7.8.0' });
  expect(install.code, install.stderr).toBe(0);
  installed = join(consumer, 'node_modules/athena-rx');
  // The optional Nest peers, for athena-rx/nest: linked from this project's own devDependencies.
  await mkdir(join(consumer, 'node_modules/@nestjs'), { recursive: true });
  for (const name of ['@nestjs/common', '@nestjs/core']) {
    await symlink(join(root, 'node_modules', name), join(consumer, 'node_modules', name), 'dir');
  }
  // The optional queue peers, for athena-rx/queue, the same way.
  for (const name of ['bullmq', 'ioredis']) {
    await symlink(join(root, 'node_modules', name), join(consumer, 'node_modules', name), 'dir');
  }
}, 300_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('holds the build, the sources its maps point at, and registry metadata that leads somewhere', async () => {
    const pkg = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as {
      exports: Record<string, string | { types: string; default: string }>;
      imports: Record<string, { types: string; default: string }>;
      bin: Record<string, string>;
      repository: { url: string };
      homepage: string;
      bugs: { url: string };
    };
    const targets = [
      ...Object.values(pkg.exports).flatMap((target) =>
        typeof target === 'string' ? [target] : [target.types, target.default],
      ),
      ...Object.values(pkg.imports).flatMap((target) => [target.types, target.default]),
      ...Object.values(pkg.bin),
    ];
    expect(targets.length).toBeGreaterThan(12);
    for (const target of targets) expect(packedFiles, target).toContain(relative('.', target));
    expect(packedFiles.filter((path) => /^(spec|bench|scripts|node_modules)\//.test(path))).toEqual([]);

    const maps = (await filesUnder(join(installed, 'dist'))).filter((path) => path.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(50);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources } = JSON.parse(await readFile(map, 'utf8')) as { sources: string[] };
      for (const source of sources) {
        const path = resolve(dirname(map), source);
        const found = path.startsWith(installed) && (await stat(path).catch(() => undefined))?.isFile();
        if (!found) missing.push(`${relative(installed, map)} -> ${source}`);
      }
    }
    expect(missing).toEqual([]);

    const home = 'https://github.com/athena-rx/athena-rx';
    expect(pkg.repository.url).toContain('github.com/athena-rx/athena-rx');
    expect(pkg.homepage.startsWith(home)).toBe(true);
    expect(pkg.bugs.url.startsWith(home)).toBe(true);
    const readme = await readFile(join(installed, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] ?? '');
    expect(links.length).toBeGreaterThan(3);
    expect(links.filter((link) => !/^(https:\/\/|#)/.test(link))).toEqual([]);
  });

  it('loads every entry point with import and with require (Node 20.19+), one module instance for both', async () => {
    const script = `
      const { createRequire } = await import('node:module');
      const require = createRequire(import.meta.url);
      const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
      const report = {};
      for (const entry of ${JSON.stringify(ENTRY_POINTS)}) {
        const imported = await import(entry);
        let required;
        try {
          required = require(entry);
        } catch (error) {
          required = { requireError: error.code };
        }
        report[entry] = {
          exports: Object.keys(imported).sort(),
          sameInstance: Object.keys(imported).every((key) => required[key] === imported[key]),
          requireError: required.requireError ?? null,
        };
      }
      process.stdout.write(JSON.stringify({ requireEsm: major > 20 || (major === 20 && minor >= 19), report }));
    `;
    await writeFile(join(consumer, 'entries.mjs'), script);
    const result = await run(process.execPath, ['entries.mjs'], { cwd: consumer });
    expect(result.code, result.stderr).toBe(0);
    const { requireEsm, report } = JSON.parse(result.stdout) as {
      requireEsm: boolean;
      report: Record<string, { exports: string[]; sameInstance: boolean; requireError: string | null }>;
    };
    const expected: Record<string, string> = {
      'athena-rx': 'AthenaError',
      'athena-rx/operators': 'batch',
      'athena-rx/sources': 'fromDirectory',
      'athena-rx/transport': 'AthenaClient',
      'athena-rx/testing': 'startAthenaServer',
      'athena-rx/nest': 'AthenaModule',
      'athena-rx/queue': 'enqueue',
      'athena-rx/browser': 'fromFileList',
    };
    for (const entry of ENTRY_POINTS) {
      expect(report[entry]?.exports, entry).toContain(expected[entry]);
      if (requireEsm) {
        expect(report[entry]?.requireError, entry).toBeNull();
        expect(report[entry]?.sameInstance, entry).toBe(true);
      } else {
        // Older Node says the package is an ES module, instead of a misleading "no exports main".
        expect(report[entry]?.requireError, entry).toBe('ERR_REQUIRE_ESM');
      }
    }

    const help = await run(join(consumer, 'node_modules/.bin/athena-rx'), ['--help'], { cwd: consumer });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('classify');
  });

  it("type-checks the README's samples against the installed types, and the first one runs and exits on its own", async () => {
    const blocks = tsBlocks(await readFile(join(installed, 'README.md'), 'utf8'));
    expect(blocks.length).toBeGreaterThan(0);
    const dir = join(consumer, 'readme');
    await mkdir(join(dir, 'inbox'), { recursive: true });
    const names = blocks.map((_, i) => `sample-${i}.ts`);
    await Promise.all(blocks.map((code, i) => writeFile(join(dir, names[i] ?? ''), `${code}\nexport {};\n`)));
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        // Our own declarations are checked; third-party ones are their authors' business.
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(root, 'node_modules/@types')],
        outDir: 'out',
        noEmitOnError: true,
      },
      files: names,
    };
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    const checked = await run(tsc, ['-p', 'tsconfig.json'], { cwd: dir });
    expect(checked.stdout + checked.stderr).toBe('');
    expect(checked.code).toBe(0);

    const images = ['10-freshflower.jpg', '21-greentock-small.webp'];
    for (const image of images) await copyFile(join(root, 'samples', image), join(dir, 'inbox', image));
    const sample = await run(process.execPath, ['out/sample-0.js'], { cwd: dir, timeout: 60_000 });
    expect(sample.killed, 'the README sample did not exit within 60 s').toBe(false);
    expect(sample.code, sample.stderr).toBe(0);
    const lines = sample.stdout.trim().split('\n');
    expect(lines, sample.stderr).toHaveLength(images.length);
    for (const image of images) expect(lines.some((line) => line.includes(image))).toBe(true);
  });

  it('bundles the browser-safe entry points for the browser with esbuild, nothing marked external', async () => {
    for (const entry of BROWSER_SAFE) {
      const result = await build({
        stdin: { contents: `export * from '${entry}';`, resolveDir: consumer, loader: 'js' },
        bundle: true,
        platform: 'browser',
        format: 'esm',
        write: false,
        metafile: true,
        logLevel: 'silent',
      });
      expect(result.errors, entry).toEqual([]);
      const inputs = Object.keys(result.metafile.inputs);
      expect(
        inputs.some((path) => path.includes('node_modules/athena-rx/dist/')),
        entry,
      ).toBe(true);
      expect(inputs.filter((path) => /node_modules\/(sharp|@img|@grpc)\//.test(path))).toEqual([]);
      // In place of sharp (and node:zlib, node:crypto for the operators): the stub that refuses to load.
      // The browser entry point needs no stand-in: its decoders and digests are WebAssembly.
      expect(
        inputs.some((path) => path.endsWith('athena-rx/dist/internal/node-only/stub.js')),
        entry,
      ).toBe(!BROWSER_ONLY.has(entry));
      if (BROWSER_ONLY.has(entry)) {
        for (const name of ['@jsquash/jpeg', '@jsquash/png', '@jsquash/webp', 'hash-wasm']) {
          expect(
            inputs.some((path) => path.includes(`node_modules/${name}/`)),
            name,
          ).toBe(true);
        }
      }
    }
  });
  it('in a browser bundle, the pure operators work and the Node-only defaults refuse with UNIMPLEMENTED', async () => {
    const program = `
      import { imageItem } from 'athena-rx';
      import { batch, compress, hashImage, partitionErrors } from 'athena-rx/operators';
      import { from, lastValueFrom, toArray } from 'rxjs';
      (async () => {
        const items = () => from([1, 2, 3].map((n) => imageItem({ ref: 'img-' + n, data: new Uint8Array([n]) })));
        const batches = await lastValueFrom(items().pipe(batch({ size: 2, maxWaitMs: 10 }), toArray()));
        const hashed = await lastValueFrom(items().pipe(hashImage(), toArray()));
        const zipped = await lastValueFrom(items().pipe(compress(), toArray()));
        const given = await lastValueFrom(items().pipe(hashImage({ hash: async (data) => 'h' + data[0] }), toArray()));
        const [ok$, failed$] = partitionErrors(from(hashed));
        const [ok, failed] = await Promise.all([lastValueFrom(ok$.pipe(toArray())), lastValueFrom(failed$.pipe(toArray()))]);
        globalThis.report = {
          batchSizes: batches.map((b) => b.items.length),
          hashed: hashed.map((o) => o.kind + ':' + (o.stage ?? '') + ':' + (o.error?.code ?? '')),
          zipped: zipped.map((o) => o.kind + ':' + (o.error?.code ?? '')),
          given: given.map((o) => o.hashes.map((h) => h.value).join()),
          partitioned: [ok.length, failed.length],
          message: hashed[0]?.error?.message ?? '',
        };
      })();
    `;
    await writeFile(join(consumer, 'browser-main.js'), program);
    const result = await build({
      entryPoints: [join(consumer, 'browser-main.js')],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      write: false,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    // Run the bundle with no Node module in reach: only what a browser page has (Web Crypto, timers).
    const page = {
      crypto: globalThis.crypto,
      setTimeout,
      clearTimeout,
      setInterval,
      clearInterval,
      queueMicrotask,
      report: undefined,
    };
    runInNewContext(result.outputFiles[0]?.text ?? '', page, { timeout: 5_000 });
    const deadline = Date.now() + 10_000;
    while (page.report === undefined && Date.now() < deadline)
      await new Promise((done) => setTimeout(done, 20));
    expect(page.report).toEqual({
      batchSizes: [2, 1],
      hashed: Array(3).fill('failure:hash:UNIMPLEMENTED'),
      zipped: Array(3).fill('failure:UNIMPLEMENTED'),
      given: ['h1,h1', 'h2,h2', 'h3,h3'],
      partitioned: [0, 3],
      message: expect.stringContaining('give hashImage a `hash`'),
    });
  });
});
