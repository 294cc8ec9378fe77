/**
 * The marble diagram in each public operator's TSDoc is run, not only read: this spec parses the
 * diagram, runs the operator under TestScheduler on its `source` line with the setup the diagram's
 * text states, and expects its `output` line. The same diagram must appear in docs/operators.md.
 *
 * The convention (docs/marble-testing.md): a ```text block in the operator's TSDoc; lines
 * `label: marble  comment`, the marble in RxJS syntax without spaces (one letter per value, `-` a
 * millisecond, `(ab)` the same millisecond, `|` completion, `#` error), the comment after two
 * spaces or more; other lines are free text stating the setup. Labels: `source` and `output`, plus
 * the operator's own (`classified$` and `failed$` for partitionErrors).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EMPTY, Observable, map, of, type OperatorFunction } from 'rxjs';
import { TestScheduler, type RunHelpers } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import {
  HashType,
  ImageFormat,
  RequestEncoding,
  type ClassificationOutput,
} from '../../src/generated/athena/models.js';
import { imageItem, toFailure, type ImageItem, type ItemOrFailure, type Outcome } from '../../src/model.js';
import { batch } from '../../src/operators/batch.js';
import { classify } from '../../src/operators/classify.js';
import { classifyEach } from '../../src/operators/classifyEach.js';
import { compress } from '../../src/operators/compress.js';
import { correlate } from '../../src/operators/correlate.js';
import { dedupe } from '../../src/operators/dedupe.js';
import { detectFormat } from '../../src/operators/detectFormat.js';
import { hashImage } from '../../src/operators/hashImage.js';
import { journal } from '../../src/operators/journal.js';
import { partitionErrors } from '../../src/operators/partitionErrors.js';
import { progress } from '../../src/operators/progress.js';
import { releaseLeases } from '../../src/operators/releaseLeases.js';
import { resize } from '../../src/operators/resize.js';
import { retryBackoff } from '../../src/operators/retryBackoff.js';
import { batchOf, echo, fakeClient, item as idItem, show } from '../operators/classify.fake.js';

const root = join(import.meta.dirname, '..', '..');

/** The lines of the first ```text block in the TSDoc of `export function <name>`. */
function tsdocDiagram(name: string): string[] {
  const source = readFileSync(join(root, 'src', 'operators', `${name}.ts`), 'utf8');
  const at = source.indexOf(`export function ${name}`);
  const doc = source.slice(source.lastIndexOf('/**', at), at);
  const lines = doc.split('\n').map((line) => line.replace(/^\s*\*( |$)/, ''));
  return textBlock(lines, `${name}'s TSDoc`);
}

/** The lines of the first ```text block of the `## <name>` section of docs/operators.md. */
function docsDiagram(name: string): string[] {
  const docs = readFileSync(join(root, 'docs', 'operators.md'), 'utf8').split('\n');
  const start = docs.indexOf(`## ${name}`);
  if (start < 0) throw new Error(`docs/operators.md has no section "## ${name}"`);
  const end = docs.findIndex((line, i) => i > start && line.startsWith('## '));
  return textBlock(docs.slice(start, end < 0 ? undefined : end), `docs/operators.md ## ${name}`);
}

function textBlock(lines: string[], where: string): string[] {
  const open = lines.findIndex((line) => line.trim() === '```text');
  const close = lines.findIndex((line, i) => i > open && line.trim() === '```');
  if (open < 0 || close < 0) throw new Error(`no \`\`\`text diagram in ${where}`);
  return lines.slice(open + 1, close).map((line) => line.trimEnd());
}

/** `label: marble  comment` lines of a diagram, by label. */
function marbles(lines: string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of lines) {
    const match = /^([A-Za-z$]+):\s+(\S+)(?:\s{2,}.*)?$/.exec(line.trim());
    if (match) found.set(match[1]!, match[2]!);
  }
  return found;
}

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);
const JPEG = bytes(0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1);
const PNG = bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d);
const image = (ref: string, extra: Partial<ImageItem> = {}): ImageItem =>
  imageItem({ ref, data: bytes(ref.charCodeAt(0)), ...extra });
const failed = (ref: string): ItemOrFailure =>
  toFailure({ ref }, 'read', new AthenaError('READ_FAILED', `${ref} could not be read`));

/** An item or failure as a short string: `ref`, `ref:stage:CODE`, plus what `detail` adds. */
function label(value: ItemOrFailure | Outcome, detail: (item: ImageItem) => string = () => ''): string {
  if ('kind' in value && value.kind === 'image') return `${value.ref}${detail(value)}`;
  if (value.ok === false) return `${value.ref}:${value.stage}:${value.error.code}`;
  return `${value.ref}:classified`;
}
const labels = <T extends ItemOrFailure | Outcome>(detail?: (item: ImageItem) => string) =>
  map((value: T) => label(value, detail));

type Check = (helpers: RunHelpers, diagram: Map<string, string>, scheduler: TestScheduler) => void;

function line(diagram: Map<string, string>, name: string): string {
  const marble = diagram.get(name);
  if (marble === undefined) throw new Error(`the diagram has no "${name}:" line`);
  return marble;
}

/** Runs `operator` on the `source` line and expects the `output` line, both as short strings. */
function simple<T>(
  values: Record<string, T>,
  operator: (scheduler: TestScheduler) => OperatorFunction<T, string>,
  expected: Record<string, string>,
): Check {
  return ({ cold, expectObservable }, diagram, scheduler) => {
    const source = cold(line(diagram, 'source'), values);
    expectObservable(source.pipe(operator(scheduler))).toBe(line(diagram, 'output'), expected);
  };
}

const output = (id: string): ClassificationOutput => ({
  correlationId: id,
  classifications: [{ label: 'Other', weight: 1 }],
  error: undefined,
});

/** What each diagram states as its setup, and the values of its letters. */
const CHECKS: Record<string, Check> = {
  batch: simple<ItemOrFailure>(
    { a: image('a'), b: image('b'), c: image('c'), d: image('d'), f: failed('f') },
    (scheduler) => (source) =>
      source.pipe(
        batch({ size: 3, maxWaitMs: 5, scheduler }),
        map((value) => (value.kind === 'batch' ? value.items.map((i) => i.ref).join('') : 'f')),
      ),
    { x: 'ab', y: 'cd', f: 'f' },
  ),

  classify: ({ cold, expectObservable }, diagram, scheduler) => {
    const { client } = fakeClient(scheduler, echo(scheduler, 3));
    const source = cold(line(diagram, 'source'), {
      a: idItem('a'),
      B: batchOf(idItem('b'), idItem('c')),
      f: toFailure({ ref: 'f', correlationId: 'f' }, 'read', new AthenaError('READ_FAILED', 'f')),
    });
    const run = source.pipe(classify(client, { deploymentId: 'd', affiliate: 'x', scheduler }), show());
    expectObservable(run).toBe(line(diagram, 'output'), { a: 'a', b: 'b', c: 'c', f: 'f:read:READ_FAILED' });
  },

  classifyEach: ({ cold, expectObservable }, diagram, scheduler) => {
    const client = {
      classifySingle: (input: { correlationId: string }) =>
        input.correlationId === 'b'
          ? cold<ClassificationOutput>('--#', undefined, new AthenaError('UNAVAILABLE', 'down'))
          : cold('--(o|)', { o: output(input.correlationId) }),
    };
    const source = cold(line(diagram, 'source'), {
      a: idItem('a'),
      b: idItem('b'),
      c: idItem('c'),
      F: toFailure({ ref: 'F', correlationId: 'F' }, 'read', new AthenaError('READ_FAILED', 'F')),
    });
    const run = source.pipe(classifyEach(client as never, { affiliate: 'x', scheduler }), show());
    expectObservable(run).toBe(line(diagram, 'output'), {
      a: 'a',
      b: 'b:transport:UNAVAILABLE',
      c: 'c',
      F: 'F:read:READ_FAILED',
    });
  },

  compress: ({ cold, expectObservable }, diagram) => {
    const values = {
      a: image('a'),
      b: image('b', { encoding: RequestEncoding.REQUEST_ENCODING_BROTLI }),
      F: failed('F'),
    };
    const brotli = (data: Uint8Array) => cold('--(z|)', { z: bytes(...data, 0) });
    const encoding = (i: ImageItem) =>
      i.encoding === RequestEncoding.REQUEST_ENCODING_BROTLI ? `:br${i.data.length}` : ':raw';
    const run = cold(line(diagram, 'source'), values).pipe(compress({ brotli }), labels(encoding));
    expectObservable(run).toBe(line(diagram, 'output'), { A: 'a:br2', b: 'b:br1', F: 'F:read:READ_FAILED' });
  },

  correlate: simple<ItemOrFailure>(
    { a: image('a'), b: image('b'), c: image('c', { correlationId: 'x' }), F: failed('F') },
    () => (source) =>
      source.pipe(
        correlate({ provider: (_item, index) => `id${index}` }),
        labels((i) => `=${i.correlationId}`),
      ),
    { A: 'a=id0', B: 'b=id1', c: 'c=x', F: 'F:read:READ_FAILED' },
  ),

  dedupe: ({ cold, expectObservable }, diagram, scheduler) => {
    const same = (ref: string) => imageItem({ ref, correlationId: ref, data: bytes(1) });
    const values = {
      a: same('a'),
      b: imageItem({ ref: 'b', correlationId: 'b', data: bytes(2) }),
      c: same('c'),
      d: same('d'),
    };
    const pipeline: OperatorFunction<ItemOrFailure, Outcome> = (items) =>
      new Observable<Outcome>((subscriber) =>
        items.subscribe({
          next: (value) => {
            if (value.kind !== 'image') return;
            scheduler.schedule(() => {
              subscriber.next({
                ...value,
                kind: 'classified',
                ok: true,
                classifications: [],
                labels: {},
              } as never);
            }, 3);
          },
          complete: () => scheduler.schedule(() => subscriber.complete(), 3),
        }),
      );
    const key = (i: ImageItem) => String(i.data[0]);
    const run = cold(line(diagram, 'source'), values).pipe(dedupe({ key }, pipeline), labels());
    expectObservable(run).toBe(line(diagram, 'output'), {
      A: 'a:classified',
      B: 'b:classified',
      C: 'c:classified',
      D: 'd:classified',
    });
  },

  detectFormat: simple<ItemOrFailure>(
    {
      a: imageItem({ ref: 'a', data: JPEG }),
      b: imageItem({ ref: 'b', data: PNG }),
      e: imageItem({ ref: 'e', data: bytes() }),
      u: imageItem({ ref: 'u', data: bytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12) }),
      F: failed('F'),
    },
    () => (source) =>
      source.pipe(
        detectFormat(),
        labels((i) => `:${ImageFormat[i.format]}`),
      ),
    {
      A: 'a:IMAGE_FORMAT_JPEG',
      B: 'b:IMAGE_FORMAT_PNG',
      x: 'e:detect:EMPTY_INPUT',
      y: 'u:detect:UNSUPPORTED_FORMAT',
      F: 'F:read:READ_FAILED',
    },
  ),

  hashImage: simple<ItemOrFailure>(
    {
      a: image('a'),
      b: image('b', { format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR }),
      F: failed('F'),
    },
    () => (source) =>
      source.pipe(
        hashImage({ hash: (_data, type) => of(type === HashType.HASH_TYPE_MD5 ? 'AA01' : 'BB02') }),
        labels((i) => `:${i.hashes.map((h) => h.value).join(',')}`),
      ),
    { A: 'a:aa01,bb02', x: 'b:hash:INVALID_INPUT', F: 'F:read:READ_FAILED' },
  ),

  journal: ({ cold, expectObservable }, diagram, scheduler) => {
    const written: string[] = [];
    const synced: number[] = [];
    const writer = {
      append: (text: string) => {
        written.push(text);
        return of(undefined);
      },
      sync: () => {
        synced.push(scheduler.now());
        return of(undefined);
      },
      close: () => of(undefined),
    };
    const values = {
      c: { kind: 'classified', ok: true, ref: 'c', correlationId: 'c', classifications: [], labels: {} },
      f: toFailure({ ref: 'f' }, 'read', new AthenaError('READ_FAILED', 'f')),
    } as Record<string, Outcome>;
    const run = cold(line(diagram, 'source'), values).pipe(
      journal('runs.jsonl', { open: () => of(writer), facts: () => EMPTY, syncIntervalMs: 4, scheduler }),
      labels(),
    );
    expectObservable(run).toBe(line(diagram, 'output'), { c: 'c:classified', f: 'f:read:READ_FAILED' });
    scheduler.flush();
    expect(written.join('').trim().split('\n')).toHaveLength(2);
    expect(synced).toEqual([5, 10]);
  },

  partitionErrors: ({ cold, expectObservable }, diagram) => {
    const outcomes = cold(line(diagram, 'outcomes$'), {
      c: { kind: 'classified', ok: true, ref: 'c', correlationId: 'c', classifications: [], labels: {} },
      f: toFailure({ ref: 'f' }, 'read', new AthenaError('READ_FAILED', 'f')),
    } as Record<string, Outcome>);
    const [classified$, failed$] = partitionErrors(outcomes);
    expectObservable(classified$.pipe(labels())).toBe(line(diagram, 'classified$'), { c: 'c:classified' });
    expectObservable(failed$.pipe(labels())).toBe(line(diagram, 'failed$'), { f: 'f:read:READ_FAILED' });
  },

  progress: ({ cold, expectObservable }, diagram, scheduler) => {
    const reports: number[] = [];
    const values = {
      c: { kind: 'classified', ok: true, ref: 'c', correlationId: 'c', classifications: [], labels: {} },
      f: toFailure({ ref: 'f' }, 'read', new AthenaError('READ_FAILED', 'f')),
    } as Record<string, Outcome>;
    const run = cold(line(diagram, 'source'), values).pipe(
      progress(() => reports.push(scheduler.now()), { intervalMs: 2, scheduler }),
      labels(),
    );
    expectObservable(run).toBe(line(diagram, 'output'), { c: 'c:classified', f: 'f:read:READ_FAILED' });
    scheduler.flush();
    expect(reports).toEqual([0, 2, 4, 6]);
  },

  releaseLeases: ({ cold, expectObservable }, diagram, scheduler) => {
    const released: string[] = [];
    const lease = (ref: string) => ({ release: () => released.push(`${ref}@${scheduler.now()}`) });
    const values = {
      a: image('a', { lease: lease('a') }),
      b: image('b', { lease: lease('b') }),
      F: { ...failed('F'), lease: lease('F') },
    };
    const run = cold(line(diagram, 'source'), values).pipe(releaseLeases(), labels());
    expectObservable(run).toBe(line(diagram, 'output'), { a: 'a', b: 'b', F: 'F:read:READ_FAILED' });
    scheduler.flush();
    expect(released).toEqual(['a@2', 'b@5', 'F@8']);
  },

  resize: ({ cold, expectObservable }, diagram) => {
    const values = { a: image('a'), b: image('b'), x: image('x'), F: failed('F') };
    const prepare = (data: Uint8Array) =>
      data[0] === 'x'.charCodeAt(0)
        ? cold('-#', undefined, new AthenaError('DECODE_FAILED', 'no image'))
        : cold('--(p|)', {
            p: { data: bytes(1, 2, 3), width: 9, height: 7, format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR },
          });
    const shape = (i: ImageItem) => `:${i.width}x${i.height}:${ImageFormat[i.format]}`;
    const run = cold(line(diagram, 'source'), values).pipe(
      resize({ prepare: prepare as never }),
      labels(shape),
    );
    expectObservable(run).toBe(line(diagram, 'output'), {
      A: 'a:9x7:IMAGE_FORMAT_RAW_UINT8_BGR',
      B: 'b:9x7:IMAGE_FORMAT_RAW_UINT8_BGR',
      y: 'x:decode:DECODE_FAILED',
      F: 'F:read:READ_FAILED',
    });
  },

  retryBackoff: ({ cold, expectObservable }, diagram, scheduler) => {
    const unavailable = new AthenaError('UNAVAILABLE', 'down');
    const source = cold(line(diagram, 'source'), { a: 'a' }, unavailable);
    const options = { maxAttempts: 3, random: () => 0.5, initialDelayMs: 10, scheduler };
    expectObservable(source.pipe(retryBackoff(options))).toBe(
      line(diagram, 'output'),
      { a: 'a' },
      unavailable,
    );
  },
};

const OPERATORS = Object.keys(CHECKS);

describe('the marble diagrams of the operators', () => {
  it('cover every operator the athena-rx/operators entry point exports', async () => {
    const entry = await import('../../src/operators/index.js');
    const exported = Object.entries(entry)
      .filter(([name, value]) => typeof value === 'function' && existsOperator(name))
      .map(([name]) => name)
      .sort();
    expect(exported).toEqual([...OPERATORS].sort());
  });

  it.each(OPERATORS)('%s: the TSDoc diagram is what the operator emits', (name) => {
    const diagram = marbles(tsdocDiagram(name));
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run((helpers) => CHECKS[name]!(helpers, diagram, scheduler));
  });

  it.each(OPERATORS)('%s: docs/operators.md shows the same diagram', (name) => {
    expect(docsDiagram(name)).toEqual(tsdocDiagram(name));
  });
});

/** Whether `src/operators/<name>.ts` exists, that is, `name` is an operator and not a helper. */
function existsOperator(name: string): boolean {
  try {
    readFileSync(join(root, 'src', 'operators', `${name}.ts`));
    return true;
  } catch {
    return false;
  }
}
