import { brotliDecompressSync } from 'node:zlib';
import { lastValueFrom, of, toArray } from 'rxjs';
import { TestScheduler, type RunHelpers } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import {
  RequestEncoding,
  imageItem,
  toFailure,
  type ImageItem,
  type ItemOrFailure,
} from '../../src/model.js';
import { compress, DEFAULT_BROTLI_QUALITY, type BrotliWork } from '../../src/operators/compress.js';

const BROTLI = RequestEncoding.REQUEST_ENCODING_BROTLI;
const a = imageItem({ ref: 'a', data: new Uint8Array([1, 1]) });
const b = imageItem({ ref: 'b', data: new Uint8Array([2, 2]) });
const z = imageItem({ ref: 'z', data: new Uint8Array([9]), encoding: BROTLI });
const f = toFailure({ ref: 'f' }, 'decode', new AthenaError('DECODE_FAILED', 'bad'));
const packed = (item: ImageItem): ImageItem => ({ ...item, data: item.data.subarray(1), encoding: BROTLI });
type Cold = RunHelpers['cold'];
/** A stand-in compressor: drops the first byte after `time`. */
const halve =
  (cold: Cold, time: string): BrotliWork =>
  (data) =>
    cold(time, { x: data.subarray(1) });

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('compress (marbles)', () => {
  it('completes on an empty source', () => {
    testScheduler().run((helpers) => {
      helpers
        .expectObservable(
          helpers.cold<ItemOrFailure>('|').pipe(compress({ brotli: halve(helpers.cold, '-x|') })),
        )
        .toBe('|');
    });
  });

  it('compresses one item and marks it Brotli', () => {
    testScheduler().run((helpers) => {
      const output = helpers
        .cold<ItemOrFailure>('a|', { a })
        .pipe(compress({ brotli: halve(helpers.cold, '--x|') }));
      helpers.expectObservable(output).toBe('--(x|)', { x: packed(a) });
    });
  });

  it('compresses many, up to `concurrency` at once', () => {
    testScheduler().run((helpers) => {
      const c = imageItem({ ref: 'c', data: new Uint8Array([3, 3]) });
      const output = helpers
        .cold<ItemOrFailure>('abc|', { a, b, c })
        .pipe(compress({ brotli: halve(helpers.cold, '---x|'), concurrency: 2 }));
      // a and b take both slots (0..3, 1..4); c waits for a's slot and runs 3..6.
      helpers.expectObservable(output).toBe('---xy-(z|)', { x: packed(a), y: packed(b), z: packed(c) });
    });
  });

  it('passes Brotli items and failures untouched', () => {
    testScheduler().run((helpers) => {
      const brotli = () => helpers.cold<Uint8Array>('#', undefined, new Error('must not run'));
      const output = helpers.cold<ItemOrFailure>('zf|', { z, f }).pipe(compress({ brotli }));
      helpers.expectObservable(output).toBe('zf|', { z, f });
    });
  });

  it('turns a compressor error into a compress failure and passes an error on', () => {
    testScheduler().run((helpers) => {
      const output = helpers
        .cold<ItemOrFailure>('a-#', { a })
        .pipe(compress({ brotli: () => helpers.cold('-#', undefined, new Error('zlib broke')) }));
      helpers.expectObservable(output).toBe('-x#', {
        x: toFailure(a, 'compress', new AthenaError('COMPRESS_FAILED', 'zlib broke')),
      });
    });
  });

  it('waits on a never-ending source and cancels work on unsubscribe', () => {
    testScheduler().run((helpers) => {
      const work = helpers.cold('----x|', { x: new Uint8Array(1) });
      const output = helpers.cold<ItemOrFailure>('a---', { a }).pipe(compress({ brotli: () => work }));
      helpers.expectObservable(output, '^-!').toBe('---');
      helpers.expectSubscriptions(work.subscriptions).toBe('^-!');
    });
  });

  it('validates its options when called', () => {
    expect(() => compress({ quality: 12 })).toThrow(RangeError);
    expect(() => compress({ quality: -1 })).toThrow(RangeError);
    expect(() => compress({ quality: 2.5 })).toThrow(TypeError);
    expect(() => compress({ concurrency: 0 })).toThrow(RangeError);
    expect(() => compress({ brotli: 'fast' as never })).toThrow(TypeError);
  });
});

describe('compress with node:zlib', () => {
  it('produces Brotli that decompresses to the original bytes, smaller for redundant data', async () => {
    const data = new Uint8Array(448 * 448 * 3).map((_, i) => (i % 3 === 0 ? 200 : (i >> 10) & 0xff));
    const [out] = await lastValueFrom(of(imageItem({ ref: 'p', data })).pipe(compress(), toArray()));
    expect(out!.kind).toBe('image');
    const item = out as ImageItem;
    expect(item.encoding).toBe(BROTLI);
    expect(item.data.byteLength).toBeLessThan(data.byteLength / 2);
    expect(Buffer.from(brotliDecompressSync(item.data)).equals(Buffer.from(data))).toBe(true);
  });

  it('uses the documented default quality, or the one given', async () => {
    const seen: number[] = [];
    const brotli: BrotliWork = async (data, quality) => {
      seen.push(quality);
      return data;
    };
    await lastValueFrom(of<ItemOrFailure>(a).pipe(compress({ brotli })));
    await lastValueFrom(of<ItemOrFailure>(a).pipe(compress({ brotli, quality: 9 })));
    expect(seen).toEqual([DEFAULT_BROTLI_QUALITY, 9]);
    expect(DEFAULT_BROTLI_QUALITY).toBe(2);
  });
});
