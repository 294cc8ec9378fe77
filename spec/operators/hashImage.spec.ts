import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { CORPUS, describeOnCorpus } from '../support/corpus.js';
import { AthenaError } from '../../src/errors.js';
import {
  HashType,
  ImageFormat,
  RequestEncoding,
  imageItem,
  toFailure,
  type ItemOrFailure,
} from '../../src/model.js';
import { hashImage, type HashWork } from '../../src/operators/hashImage.js';
import { releaseLeases } from '../../src/operators/releaseLeases.js';
import { fromFiles } from '../../src/sources/fromFiles.js';

const MD5 = HashType.HASH_TYPE_MD5;
const SHA1 = HashType.HASH_TYPE_SHA1;
const a = imageItem({ ref: 'a', data: new Uint8Array([1]) });
const b = imageItem({ ref: 'b', data: new Uint8Array([2]) });
const f = toFailure({ ref: 'f' }, 'read', new AthenaError('READ_FAILED', 'gone'));
const hashed = (item: typeof a, tag: string) => ({
  ...item,
  hashes: [
    { value: `md5-${tag}`, type: MD5 },
    { value: `sha1-${tag}`, type: SHA1 },
  ],
});

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('hashImage (marbles)', () => {
  it('completes on an empty source', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const hash: HashWork = () => cold('-x|', { x: 'x' });
      expectObservable(cold<ItemOrFailure>('|').pipe(hashImage({ hash }))).toBe('|');
    });
  });

  it('adds both digests to one item, lowercased', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const hash: HashWork = (data, type) =>
        cold('-x|', { x: `${type === MD5 ? 'MD5' : 'SHA1'}-${data[0]}` });
      expectObservable(cold<ItemOrFailure>('a|', { a }).pipe(hashImage({ hash }))).toBe('--(h|)', {
        h: hashed(a, '1'),
      });
    });
  });

  it('hashes many in order, one at a time by default, and passes failures', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const hash: HashWork = (data, type) =>
        cold('--x|', { x: `${type === MD5 ? 'md5' : 'sha1'}-${data[0]}` });
      expectObservable(cold<ItemOrFailure>('abf|', { a, b, f }).pipe(hashImage({ hash }))).toBe(
        '---g--(hf|)',
        {
          g: hashed(a, '1'),
          h: hashed(b, '2'),
          f,
        },
      );
    });
  });

  it('turns a failing digest into a hash failure and passes an error on', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const hash: HashWork = () => cold('-#', undefined, new Error('no digest'));
      const output = cold<ItemOrFailure>('a-#', { a }).pipe(hashImage({ hash, types: [SHA1] }));
      expectObservable(output).toBe('-x#', {
        x: toFailure(a, 'hash', new AthenaError('UNKNOWN', 'no digest')),
      });
    });
  });

  it('waits on a never-ending source and cancels digests on unsubscribe', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const digest = cold('----x|', { x: 'x' });
      const output = cold<ItemOrFailure>('a---', { a }).pipe(hashImage({ hash: () => digest, types: [MD5] }));
      expectObservable(output, '^-!').toBe('---');
      expectSubscriptions(digest.subscriptions).toBe('^-!');
    });
  });

  it('refuses bytes that are no longer the original file', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const resized = imageItem({
        ref: 'r',
        data: new Uint8Array(3),
        format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR,
      });
      const packed = imageItem({
        ref: 'p',
        data: new Uint8Array(3),
        encoding: RequestEncoding.REQUEST_ENCODING_BROTLI,
      });
      const output = cold<ItemOrFailure>('rp|', { r: resized, p: packed }).pipe(
        hashImage({ hash: () => ['x'] }),
      );
      const failure = (item: typeof a) =>
        toFailure(
          item,
          'hash',
          new AthenaError(
            'INVALID_INPUT',
            `${item.ref}: hashImage() needs the original file bytes; put it before resize() and compress()`,
          ),
        );
      expectObservable(output).toBe('rp|', { r: failure(resized), p: failure(packed) });
    });
  });

  it('keeps digests an item already has and computes only the missing ones', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const both = hashed(a, 'k');
      const md5Only = { ...b, hashes: [{ value: 'known', type: MD5 }] };
      const hash: HashWork = (_, type) => [type === SHA1 ? 'new-sha1' : 'WRONG'];
      expectObservable(cold<ItemOrFailure>('ab|', { a: both, b: md5Only }).pipe(hashImage({ hash }))).toBe(
        'ab|',
        {
          a: both,
          b: {
            ...b,
            hashes: [
              { value: 'known', type: MD5 },
              { value: 'new-sha1', type: SHA1 },
            ],
          },
        },
      );
    });
  });

  it('validates its options when called', () => {
    expect(() => hashImage({ types: [] })).toThrow(TypeError);
    expect(() => hashImage({ types: [HashType.HASH_TYPE_UNKNOWN] })).toThrow(RangeError);
    expect(() => hashImage({ concurrency: 0 })).toThrow(RangeError);
    expect(() => hashImage({ hash: 'md5' as never })).toThrow(TypeError);
  });
});

const corpus = CORPUS;
const manifest = join(corpus, 'MANIFEST.md');

describeOnCorpus('hashImage on the photo corpus', () => {
  it('gives the MD5 and SHA1 the manifest lists', async () => {
    const rows = readFileSync(manifest, 'utf8')
      .split('\n')
      .filter((line) => /^\| \d\d-/.test(line))
      .map((line) => line.split('|').map((cell) => cell.trim()))
      .map((cells) => ({ file: cells[1]!, md5: cells[11]!, sha1: cells[12]! }))
      .filter((row) => /^[0-9a-f]{32}$/.test(row.md5) && existsSync(join(corpus, row.file)));
    const chosen = [rows[0], rows[9], rows[16], rows[rows.length - 1]].filter((row) => row !== undefined);
    expect(chosen.length).toBeGreaterThanOrEqual(3);
    const values = await lastValueFrom(
      fromFiles(chosen.map((row) => join(corpus, row.file))).pipe(hashImage(), releaseLeases(), toArray()),
    );
    expect(values.map((v) => (v.kind === 'image' ? v.hashes.map((h) => [h.type, h.value]) : v.kind))).toEqual(
      chosen.map((row) => [
        [MD5, row.md5],
        [SHA1, row.sha1],
      ]),
    );
  });
});
