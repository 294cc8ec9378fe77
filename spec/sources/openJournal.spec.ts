import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lastValueFrom, of } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import { toFailure, type Classified, type FailureStage, type Outcome } from '../../src/model.js';
import { journal } from '../../src/operators/journal.js';
import { fromFiles } from '../../src/sources/fromFiles.js';
import { openJournal } from '../../src/sources/openJournal.js';
import { collect, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

const classified = (ref: string): Classified => ({
  kind: 'classified',
  ok: true,
  ref,
  correlationId: `id-${ref}`,
  classifications: [],
  labels: {},
});
const failed = (ref: string, stage: FailureStage, code: string, details?: string): Outcome =>
  toFailure({ ref }, stage, new AthenaError(code as never, 'failed', details ? { details } : {}));

async function record(path: string, outcomes: Outcome[]): Promise<void> {
  await lastValueFrom(of(...outcomes).pipe(journal(path)), { defaultValue: undefined });
}

describe('openJournal', () => {
  it('is empty for a missing file, and creates nothing', async () => {
    const path = join(dir, 'none.jsonl');
    const journalRead = await openJournal(path);
    expect(journalRead.records.size).toBe(0);
    expect(journalRead.done).toBe(0);
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('skips final outcomes and retries transient failures', async () => {
    const path = join(dir, 'r.jsonl');
    await record(path, [
      classified('ok'),
      failed('decode', 'decode', 'DECODE_FAILED'),
      failed('transport', 'transport', 'UNAVAILABLE'),
      failed('timeout', 'timeout', 'TIMEOUT'),
      failed('model', 'classify', 'MODEL_ERROR'),
      failed('unspecified', 'classify', 'UNSPECIFIED'),
      failed('too-large', 'classify', 'IMAGE_TOO_LARGE'),
      failed('https://h.example/404.jpg', 'read', 'HTTP_ERROR', '404'),
      failed('https://h.example/503.jpg', 'read', 'HTTP_ERROR', '503'),
    ]);
    const j = await openJournal(path);
    const answers: Record<string, boolean> = {};
    for (const ref of j.records.keys()) answers[ref] = await j.skip(ref);
    answers['never-seen'] = await j.skip('never-seen');
    expect(answers).toEqual({
      ok: true,
      decode: true,
      transport: false,
      timeout: false,
      model: false,
      unspecified: false,
      'too-large': true,
      'https://h.example/404.jpg': true,
      'https://h.example/503.jpg': false,
      'never-seen': false,
    });
    expect(j.done).toBe(4);
  });

  it('lets the last record of a ref count: a transient failure classified later is done', async () => {
    const path = join(dir, 'r.jsonl');
    await record(path, [failed('a', 'classify', 'MODEL_ERROR'), classified('b')]);
    await record(path, [classified('a'), failed('b', 'transport', 'UNAVAILABLE')]);
    const j = await openJournal(path);
    expect(await j.skip('a')).toBe(true);
    expect(await j.skip('b')).toBe(false);
  });

  it('reads a file again when its size or modification time changed', async () => {
    const [same, grown, touched] = ['same', 'grown', 'touched'].map((n) => join(dir, `${n}.jpg`));
    for (const file of [same, grown, touched]) await writeFile(file!, Buffer.alloc(10, 1));
    const path = join(dir, 'r.jsonl');
    await record(path, [classified(same!), classified(grown!), classified(touched!)]);
    await writeFile(grown!, Buffer.alloc(11, 1));
    const later = new Date(Date.now() + 60_000);
    await utimes(touched!, later, later);
    const j = await openJournal(path);
    const read = await collect(fromFiles([same!, grown!, touched!], { skip: j.skip }));
    expect(read.map((v) => v.ref)).toEqual([grown, touched]);
  });

  it('cuts a torn last line off the file and keeps the whole lines', async () => {
    const path = join(dir, 'r.jsonl');
    await record(path, [classified('a'), classified('b')]);
    const whole = await readFile(path, 'utf8');
    await writeFile(path, `${whole}{"ref":"c","source":{"si`);
    const j = await openJournal(path);
    expect([...j.records.keys()]).toEqual(['a', 'b']);
    expect(j.truncatedBytes).toBe('{"ref":"c","source":{"si'.length);
    expect(await readFile(path, 'utf8')).toBe(whole);
    await record(path, [classified('c')]);
    expect([...(await openJournal(path)).records.keys()]).toEqual(['a', 'b', 'c']);
  });

  it('refuses a file that is not a journal and leaves it untouched', async () => {
    const cases = {
      'r.csv': 'source,status,known_match\n/x.jpg,ok,false\n',
      'table.txt': 'SOURCE   KNOWN HASH\n',
      'broken.jsonl':
        '{"ref":"a","ok":true,"labels":{}}\n{"ref":"b","ok":tr\n{"ref":"c","ok":true,"labels":{}}\n',
      'json.jsonl': '{"name":"x"}\n',
      'tail.txt': 'just some words',
    };
    for (const [name, text] of Object.entries(cases)) {
      const path = join(dir, name);
      await writeFile(path, text);
      await expect(openJournal(path), name).rejects.toMatchObject({ code: 'JOURNAL_INVALID' });
      expect(await readFile(path, 'utf8')).toBe(text);
    }
  });
});
