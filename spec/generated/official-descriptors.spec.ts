import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

/** The parts of a FileDescriptorProto (proto JSON, as `buf build` writes it) that the list covers. */
interface FieldJson {
  name: string;
  number: number;
  label?: string;
  type: string;
  typeName?: string;
}
interface FileJson {
  name: string;
  package?: string;
  syntax?: string;
  dependency?: string[];
  options?: Record<string, unknown>;
  messageType?: { name: string; field?: FieldJson[]; reservedRange?: unknown[]; reservedName?: string[] }[];
  enumType?: {
    name: string;
    value?: { name: string; number: number }[];
    reservedRange?: { start: number; end: number }[];
    reservedName?: string[];
  }[];
  service?: {
    name: string;
    method?: {
      name: string;
      inputType: string;
      outputType: string;
      clientStreaming?: boolean;
      serverStreaming?: boolean;
    }[];
  }[];
}

function typeOf(field: FieldJson): string {
  const base = field.typeName ?? field.type.replace(/^TYPE_/, '').toLowerCase();
  return field.label === 'LABEL_REPEATED' ? `repeated ${base}` : base;
}

/** Our descriptor of one file, in the shape of the checked-in list. */
function summarise(file: FileJson) {
  for (const m of file.messageType ?? []) {
    // The official messages reserve nothing; a reserved field here would be ours alone.
    expect(m.reservedRange ?? [], `${m.name} reserved ranges`).toEqual([]);
    expect(m.reservedName ?? [], `${m.name} reserved names`).toEqual([]);
  }
  return {
    syntax: file.syntax,
    package: file.package,
    dependencies: file.dependency ?? [],
    options: file.options ?? {},
    services: Object.fromEntries(
      (file.service ?? []).map((s) => [
        s.name,
        Object.fromEntries(
          (s.method ?? []).map((m) => [
            m.name,
            [
              `${m.clientStreaming ? 'stream ' : ''}${m.inputType}`,
              `${m.serverStreaming ? 'stream ' : ''}${m.outputType}`,
            ],
          ]),
        ),
      ]),
    ),
    messages: Object.fromEntries(
      (file.messageType ?? []).map((m) => [
        m.name,
        Object.fromEntries((m.field ?? []).map((f) => [f.name, [f.number, typeOf(f)]])),
      ]),
    ),
    enums: Object.fromEntries(
      (file.enumType ?? []).map((e) => [
        e.name,
        {
          values: Object.fromEntries((e.value ?? []).map((v) => [v.name, v.number])),
          reserved: [
            ...(e.reservedRange ?? []).map((r) => [r.start, r.end]),
            ...(e.reservedName ?? []).map((n) => [n]),
          ],
        },
      ]),
    ),
  };
}

describe('proto/ against the official files', () => {
  let dir = '';
  let files: FileJson[] = [];
  const official = JSON.parse(readFileSync(join(root, 'spec/fixtures/proto/official.json'), 'utf8')) as {
    files: Record<string, unknown>;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'athena-descriptors-'));
    const out = join(dir, 'set.json');
    await run(
      join(root, 'node_modules/.bin/buf'),
      ['build', '--as-file-descriptor-set', '--exclude-imports', '--exclude-source-info', '-o', out],
      { cwd: root },
    );
    files = (JSON.parse(await readFile(out, 'utf8')) as { file: FileJson[] }).file;
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('holds exactly the official files', () => {
    expect(files.map((f) => f.name).sort()).toEqual(Object.keys(official.files).sort());
  });

  for (const name of Object.keys(official.files)) {
    it(`${name}: same options, names, numbers and reserved values`, () => {
      const file = files.find((f) => f.name === name);
      expect(file, name).toBeDefined();
      expect(summarise(file!)).toEqual(official.files[name]);
    });
  }
});
