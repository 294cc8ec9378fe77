import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const outDir = join(root, '.doc-samples');

interface Sample {
  file: string;
  line: number;
  code: string;
}

/** Every ```ts block of README.md and docs/, except those fenced as ```ts ignore. */
async function collectSamples(): Promise<Sample[]> {
  const docs = (await readdir(join(root, 'docs'), { recursive: true }).catch(() => []))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(root, 'docs', name));
  const samples: Sample[] = [];
  for (const file of [join(root, 'README.md'), ...docs]) {
    const lines = (await readFile(file, 'utf8')).split('\n');
    let start = -1;
    let body: string[] = [];
    lines.forEach((text, index) => {
      if (start < 0 && /^```(ts|typescript)\s*$/.test(text)) {
        start = index + 1;
        body = [];
      } else if (start >= 0 && text.startsWith('```')) {
        samples.push({ file: relative(root, file), line: start, code: body.join('\n') });
        start = -1;
      } else if (start >= 0) {
        body.push(text);
      }
    });
  }
  return samples;
}

describe('code samples in README.md and docs/', () => {
  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it('all compile against the library', async () => {
    const samples = await collectSamples();
    expect(samples.length).toBeGreaterThan(0);
    await rm(outDir, { recursive: true, force: true });
    await mkdir(outDir, { recursive: true });
    const names: Record<string, Sample> = {};
    await Promise.all(
      samples.map((sample, i) => {
        const name = `sample-${String(i).padStart(3, '0')}.ts`;
        names[name] = sample;
        return writeFile(
          join(outDir, name),
          `// ${sample.file}:${sample.line}\n${sample.code}\nexport {};\n`,
        );
      }),
    );
    const tsconfig = {
      extends: '../tsconfig.json',
      compilerOptions: {
        noEmit: true,
        rootDir: '..',
        noUnusedLocals: false,
        // Relative to this tsconfig (TypeScript 6 deprecates baseUrl).
        paths: {
          'athena-rx': ['../src/index.ts'],
          'athena-rx/*': ['../src/*/index.ts'],
        },
      },
      include: ['./*.ts'],
    };
    await writeFile(join(outDir, 'tsconfig.json'), JSON.stringify(tsconfig));
    const result = await run(join(root, 'node_modules/.bin/tsc'), ['-p', join(outDir, 'tsconfig.json')], {
      cwd: root,
    }).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    const located = result.replace(
      /\.doc-samples\/(sample-\d+\.ts)\((\d+),/g,
      (_, name: string, line: string) => {
        const sample = names[name];
        return sample
          ? `${sample.file} sample at line ${sample.line} (+${Number(line) - 1}),`
          : `${name}(${line},`;
      },
    );
    expect(located).toBe('');
  }, 120_000);
});
