import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, of, Subject, toArray, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import { toFailure, type Classified, type Outcome } from '../../src/model.js';
import { journal, type JournalWriter } from '../../src/operators/journal.js';
import { INITIAL_SYNC_STATE, syncStep } from '../../src/internal/journal/sync.js';

const classified = (ref: string, meta?: Record<string, unknown>): Classified => ({
  kind: 'classified',
  ok: true,
  ref,
  correlationId: `id-${ref}`,
  classifications: [{ label: 'UnknownCSAM-benign', weight: 0.75 }],
  labels: { 'UnknownCSAM-benign': 0.75 },
  ...(meta === undefined ? {} : { meta }),
});
const outcomes: Record<string, Outcome> = {
  a: classified('a'),
  b: classified('b'),
  f: toFailure({ ref: 'f' }, 'decode', new AthenaError('DECODE_FAILED', 'not an image')),
};

/** A writer that logs what it is asked, at the virtual time it is asked, answering at once. */
function fakeWriter(ts: TestScheduler): { writer: JournalWriter; log: string[] } {
  const log: string[] = [];
  const at = (what: string): Observable<undefined> => {
    log.push(`${ts.now()}:${what}`);
    return of(undefined);
  };
  return {
    log,
    writer: {
      append: (text) => at(`append ${(JSON.parse(text) as { ref: string }).ref}`),
      sync: () => at('sync'),
      close: () => at('close'),
    },
  };
}

function testScheduler(): TestScheduler {
  const ts = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  ts.maxFrames = 1000;
  return ts;
}

describe('journal (marbles)', () => {
  const marble = (
    source: string,
    expected: string,
    log: string[],
    subscription?: string,
    error?: unknown,
  ): void => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, flush }) => {
      const fake = fakeWriter(ts);
      const result = cold(source, outcomes, error).pipe(
        journal('j.jsonl', {
          syncIntervalMs: 5,
          scheduler: ts,
          open: () => of(fake.writer),
          facts: () => of(undefined),
        }),
      );
      expectObservable(result, subscription).toBe(expected, outcomes, error);
      flush();
      expect(fake.log).toEqual(log);
    });
  };

  it('writes nothing and closes the file on an empty source', () => {
    marble('|', '|', ['0:close']);
  });

  it('appends one outcome before passing it on, and syncs before completing', () => {
    marble('-a|', '-a|', ['1:append a', '2:sync', '2:close']);
  });

  it('appends many in order, syncing at most syncIntervalMs after a line, and at the end', () => {
    marble('-a-b-f--------|', '-a-b-f--------|', [
      '1:append a',
      '3:append b',
      '5:append f',
      '6:sync',
      '14:close',
    ]);
  });

  it('syncs and closes before passing an error on', () => {
    const boom = new Error('source failed');
    marble('-a#', '-a#', ['1:append a', '2:sync', '2:close'], undefined, boom);
  });

  it('keeps syncing a never-ending source, once per interval with lines', () => {
    marble(
      '-a------b----------',
      '-a------b----------',
      ['1:append a', '6:sync', '8:append b', '13:sync', '19:close'],
      '^------------------!',
    );
  });

  it('syncs and closes on early unsubscribe', () => {
    marble('-a-b-f|', '-a', ['1:append a', '2:sync', '2:close'], '^-!');
  });

  it('validates its arguments at call time', () => {
    expect(() => journal('')).toThrow(RangeError);
    expect(() => journal(1 as never)).toThrow(TypeError);
    expect(() => journal('j', { syncIntervalMs: 0 })).toThrow(RangeError);
    expect(() => journal('j', { open: 'x' as never })).toThrow(TypeError);
    expect(() => journal('j', { facts: 1 as never })).toThrow(TypeError);
  });
});

describe('syncStep', () => {
  it('arms one timer per burst of lines and syncs only what is dirty', () => {
    let s = syncStep(INITIAL_SYNC_STATE, { type: 'appended' }, 1000);
    expect(s.effects).toEqual([{ type: 'arm', delayMs: 1000 }]);
    s = syncStep(s.state, { type: 'appended' }, 1000);
    expect(s.effects).toEqual([]);
    s = syncStep(s.state, { type: 'timer' }, 1000);
    expect(s.effects).toEqual([{ type: 'sync' }]);
    expect(syncStep(s.state, { type: 'timer' }, 1000).effects).toEqual([]);
    const end = syncStep(syncStep(s.state, { type: 'appended' }, 1000).state, { type: 'end' }, 1000);
    expect(end.effects).toEqual([{ type: 'disarm' }, { type: 'sync' }]);
    expect(syncStep(end.state, { type: 'appended' }, 1000).effects).toEqual([]);
  });
});

describe('journal (files)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'athena-rx-journal-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes one line per outcome with source facts, digests and the outcome, appending to what is there', async () => {
    const image = join(dir, 'a.jpg');
    await writeFile(image, Buffer.alloc(123, 1));
    const facts = await stat(image);
    const path = join(dir, 'results.jsonl');
    await writeFile(path, '{"ref":"earlier","ok":true,"labels":{}}\n');
    const input: Outcome[] = [
      classified(image, { digests: { md5: 'ab12', sha1: 'cd34' }, other: 1 }),
      toFailure(
        { ref: 'https://bucket.example/b.jpg?<redacted>' },
        'read',
        new AthenaError('HTTP_ERROR', 'answered 503', { details: '503' }),
      ),
      toFailure({ ref: 'buffer-1' }, 'decode', new AthenaError('DECODE_FAILED', 'not an image')),
    ];
    const passed = await lastValueFrom(of(...input).pipe(journal(path), toArray()));
    expect(passed).toEqual(input);
    const lines = (await readFile(path, 'utf8')).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual([
      { ref: 'earlier', ok: true, labels: {} },
      {
        ref: image,
        source: { size: 123, mtimeMs: facts.mtimeMs },
        ok: true,
        knownMatch: false,
        correlationId: `id-${image}`,
        top: { label: 'UnknownCSAM-benign', weight: 0.75 },
        labels: { 'UnknownCSAM-benign': 0.75 },
        digests: { md5: 'ab12', sha1: 'cd34' },
      },
      {
        ref: 'https://bucket.example/b.jpg?<redacted>',
        source: { url: 'https://bucket.example/b.jpg' },
        ok: false,
        stage: 'read',
        code: 'HTTP_ERROR',
        message: 'answered 503',
        details: '503',
      },
      { ref: 'buffer-1', ok: false, stage: 'decode', code: 'DECODE_FAILED', message: 'not an image' },
    ]);
  });

  it('has every line on disk as soon as its outcome passes, while the stream is still open', async () => {
    const path = join(dir, 'live.jsonl');
    const source = new Subject<Outcome>();
    const seen: string[] = [];
    const contents: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      source.pipe(journal(path)).subscribe({
        next: (outcome) => {
          seen.push(outcome.ref);
          contents.push(readFileSync(path, 'utf8'));
        },
        error: reject,
        complete: resolve,
      });
    });
    for (const ref of ['x', 'y']) {
      source.next(classified(ref));
      for (let i = 0; i < 200 && seen.length < (ref === 'x' ? 1 : 2); i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    source.complete();
    await done;
    expect(seen).toEqual(['x', 'y']);
    expect(contents.map((text) => text.split('\n').length - 1)).toEqual([1, 2]);
  });

  it('ends with WRITE_FAILED when the file cannot be opened', async () => {
    const failing = lastValueFrom(
      of(outcomes.a as Outcome).pipe(journal(join(dir, 'no', 'such', 'j.jsonl'))),
    );
    await expect(failing).rejects.toMatchObject({ code: 'WRITE_FAILED' });
  });
});
