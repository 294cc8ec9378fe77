import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom, NEVER, take, toArray, type Observable } from 'rxjs';
import { TestScheduler, type RunHelpers } from 'rxjs/testing';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import { prepareImage, type PreparedImage, type PrepareImageOptions } from '../../src/imaging/prepare.js';
import {
  ImageFormat,
  RequestEncoding,
  imageItem,
  toFailure,
  type ImageItem,
  type ItemFailure,
  type ItemOrFailure,
} from '../../src/model.js';
import { resize, type PrepareWork } from '../../src/operators/resize.js';
import { spiedBuffer } from '../support/spied-buffer.js';

const RAW = ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR;
const BROTLI = RequestEncoding.REQUEST_ENCODING_BROTLI;
const UNCOMPRESSED = RequestEncoding.REQUEST_ENCODING_UNCOMPRESSED;

const a = imageItem({
  ref: 'a.jpg',
  data: new Uint8Array([1]),
  format: ImageFormat.IMAGE_FORMAT_JPEG,
  index: 0,
});
const b = imageItem({ ref: 'b.png', data: new Uint8Array([2]), correlationId: 'cb' });
const c = imageItem({ ref: 'c.png', data: new Uint8Array([3]) });
const f = toFailure({ ref: 'f' }, 'read', new AthenaError('READ_FAILED', 'gone'));
const prepared = (seed: number): PreparedImage => ({
  data: new Uint8Array([seed, seed]),
  width: seed * 10,
  height: seed,
  format: RAW,
});
/** The item `resize` makes of `item` when the preparation gives `prepared(seed)`. */
const resized = (item: ImageItem, seed: number): ImageItem => ({
  ...item,
  data: new Uint8Array([seed, seed]),
  format: RAW,
  encoding: UNCOMPRESSED,
  width: seed * 10,
  height: seed,
});
/** A stand-in preparation: answers `prepared(first byte)` after `time`. */
const after =
  (cold: RunHelpers['cold'], time: string): PrepareWork =>
  (bytes) =>
    cold(time, { x: prepared(bytes[0]!) });

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('resize (marbles)', () => {
  it('completes on an empty source', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<ItemOrFailure>('|').pipe(resize({ prepare: after(cold, '-x|') }))).toBe('|');
    });
  });

  it('replaces one image by its prepared pixels', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const output = cold<ItemOrFailure>('a|', { a }).pipe(resize({ prepare: after(cold, '--x|') }));
      expectObservable(output).toBe('--(x|)', { x: resized(a, 1) });
    });
  });

  it('prepares many, `concurrency` at once, outputs in the order they finish', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const output = cold<ItemOrFailure>('fabc|', { a, b, c, f }).pipe(
        resize({ prepare: after(cold, '---x|'), concurrency: 2 }),
      );
      // f passes at once; a (1..4) and b (2..5) take both slots; c waits for a's slot: 4..7.
      expectObservable(output).toBe('f---xy-(z|)', {
        x: resized(a, 1),
        y: resized(b, 2),
        z: resized(c, 3),
        f,
      });
    });
  });

  it('hands the options and the declared format to the preparation', () => {
    const seen: PrepareImageOptions[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      const prepare: PrepareWork = (bytes, options) => {
        seen.push(options);
        return cold('x|', { x: prepared(bytes[0]!) });
      };
      const output = cold<ItemOrFailure>('a|', { a }).pipe(
        resize({ prepare, mode: 'fast', maxPixels: 99, failOn: 'none' }),
      );
      expectObservable(output).toBe('x|', { x: resized(a, 1) });
    });
    expect(seen).toEqual([
      {
        mode: 'fast',
        maxPixels: 99,
        failOn: 'none',
        format: ImageFormat.IMAGE_FORMAT_JPEG,
        signal: expect.any(AbortSignal),
      },
    ]);
  });

  it('turns preparation errors into decode or resize failures, and passes a source error on', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const errors: Record<number, Error> = {
        1: new AthenaError('DECODE_FAILED', 'bad data'),
        2: new AthenaError('IMAGE_TOO_MANY_PIXELS', 'too big'),
        3: new Error('out of memory'),
      };
      const prepare: PrepareWork = (bytes) => cold<PreparedImage>('-#', undefined, errors[bytes[0]!]);
      const output = cold<ItemOrFailure>('abc-#', { a, b, c }, new Error('source broke')).pipe(
        resize({ prepare }),
      );
      expectObservable(output).toBe(
        '-xyz#',
        {
          x: toFailure(a, 'decode', new AthenaError('DECODE_FAILED', 'bad data')),
          y: toFailure(b, 'decode', new AthenaError('IMAGE_TOO_MANY_PIXELS', 'too big')),
          z: toFailure(c, 'resize', new AthenaError('UNKNOWN', 'out of memory')),
        },
        new Error('source broke'),
      );
    });
  });

  it('lets prepared items through and fails other Brotli items without preparing them', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const ready = imageItem({ ref: 'r', data: new Uint8Array([7]), format: RAW, encoding: BROTLI });
      const packed = imageItem({ ref: 'p.jpg', data: new Uint8Array([8]), encoding: BROTLI });
      const prepare = () => cold<PreparedImage>('#', undefined, new Error('must not run'));
      expectObservable(cold<ItemOrFailure>('rp|', { r: ready, p: packed }).pipe(resize({ prepare }))).toBe(
        'rx|',
        {
          r: ready,
          x: toFailure(
            packed,
            'decode',
            new AthenaError('INVALID_INPUT', 'p.jpg is Brotli-encoded; resize before compress'),
          ),
        },
      );
    });
  });

  it('waits on a never-ending source and cancels the work in flight on unsubscribe', () => {
    const signals: AbortSignal[] = [];
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const work = cold<PreparedImage>('-----x|', { x: prepared(1) });
      const prepare: PrepareWork = (_bytes, options) => {
        signals.push(options.signal!);
        return work;
      };
      const source = cold<ItemOrFailure>('a---', { a });
      expectObservable(source.pipe(resize({ prepare })), '^--!').toBe('---');
      expectSubscriptions(work.subscriptions).toBe('^--!');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
    expect(signals.map((signal) => signal.aborted)).toEqual([true]);
  });

  it('does not abort work that finished', () => {
    const signals: AbortSignal[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      const prepare: PrepareWork = (bytes, options) => {
        signals.push(options.signal!);
        return cold('-x', { x: prepared(bytes[0]!) }); // answers, never completes
      };
      expectObservable(cold<ItemOrFailure>('a|', { a }).pipe(resize({ prepare }))).toBe('-(x|)', {
        x: resized(a, 1),
      });
    });
    expect(signals.map((signal) => signal.aborted)).toEqual([false]);
  });

  it('keeps the pixels decoded at once under maxPixelsInFlight, letting small images go ahead', () => {
    /** Header bytes of a PNG of the given size: all the budget reads. */
    const png = (ref: string, width: number, height: number): ImageItem => {
      const data = Buffer.alloc(33);
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]).copy(data);
      data.write('IHDR', 12, 'latin1');
      data.writeUInt32BE(width, 16);
      data.writeUInt32BE(height, 20);
      data[24] = 8;
      data[25] = 2;
      return imageItem({ ref, data });
    };
    const items = {
      a: png('a', 10, 8), // 80 pixels
      b: png('b', 5, 4), // 20: fits beside a
      c: png('c', 10, 5), // 50: waits for a and b
      d: imageItem({ ref: 'd', data: new Uint8Array([9]) }), // size unknown: runs alone
      e: png('e', 1, 1), // goes ahead of d, beside c
    };
    const run = (maxPixelsInFlight?: number): string[] => {
      const ends: string[] = [];
      const scheduler = testScheduler();
      scheduler.run(({ cold }) => {
        const prepare: PrepareWork = (bytes) => cold('---x|', { x: prepared(bytes.length) });
        const options = maxPixelsInFlight === undefined ? {} : { maxPixelsInFlight };
        cold<ItemOrFailure>('(abcde|)', items)
          .pipe(resize({ prepare, concurrency: 5, ...options }))
          .subscribe((o) => ends.push(`${o.ref}@${scheduler.now()}`));
      });
      return ends;
    };
    // Under a budget of 100: a and b at 0; at 3 c, and e beside it, ahead of d (which needs the
    // whole budget); d alone at 6.
    expect(run(100)).toEqual(['a@3', 'b@3', 'c@6', 'e@6', 'd@9']);
    // Without one, concurrency alone decides: all five at once.
    expect(run()).toEqual(['a@3', 'b@3', 'c@3', 'd@3', 'e@3']);
  });

  it('charges a progressive JPEG and a WebP for the memory their decoders keep, not only their pixels', () => {
    /** The start of a JPEG up to its frame header: baseline (SOF0) or progressive (SOF2), 4:2:0. */
    const jpeg = (ref: string, progressive: boolean): ImageItem => {
      const data = Buffer.from([
        0xff,
        0xd8,
        0xff,
        progressive ? 0xc2 : 0xc0,
        0,
        17,
        8,
        0,
        5,
        0,
        10,
        3,
        1,
        0x22,
        0,
        2,
        0x11,
        1,
        3,
        0x11,
        1,
      ]);
      return imageItem({ ref, data });
    };
    /** A simple lossy WebP's header, 10 x 5. */
    const webp = (ref: string): ImageItem => {
      const data = Buffer.alloc(30);
      data.write('RIFF', 0, 'latin1');
      data.write('WEBPVP8 ', 8, 'latin1');
      data.set([0x9d, 0x01, 0x2a], 23);
      data.writeUInt16LE(10, 26);
      data.writeUInt16LE(5, 28);
      return imageItem({ ref, data });
    };
    const ends = (items: Record<string, ImageItem>, marbles: string): string[] => {
      const out: string[] = [];
      const scheduler = testScheduler();
      scheduler.run(({ cold }) => {
        const prepare: PrepareWork = () => cold('---x|', { x: prepared(1) });
        cold<ItemOrFailure>(marbles, items)
          .pipe(resize({ prepare, concurrency: 4, maxPixelsInFlight: 110 }))
          .subscribe((o) => out.push(`${o.ref}@${scheduler.now()}`));
      });
      return out;
    };
    // 50 pixels each: two baseline JPEGs fit a budget of 110 side by side.
    expect(ends({ a: jpeg('a', false), b: jpeg('b', false) }, '(ab|)')).toEqual(['a@3', 'b@3']);
    // Progressive 4:2:0 keeps 1.5 coefficients of 2 bytes a pixel: 100 each, one at a time.
    expect(ends({ a: jpeg('a', true), b: jpeg('b', true) }, '(ab|)')).toEqual(['a@3', 'b@6']);
    // A WebP is charged 167 (over the budget): it runs alone, a baseline JPEG after it.
    expect(ends({ a: webp('a'), b: jpeg('b', false) }, '(ab|)')).toEqual(['a@3', 'b@6']);
  });

  it('with releaseInput, detaches the bytes of each image it prepared, and only those', async () => {
    /** Four bytes on a buffer of their own, the first `first`, with a spied `transfer`. */
    const owned = (first: number): ReturnType<typeof spiedBuffer> => {
      const bytes = spiedBuffer(4);
      bytes.data[0] = first;
      return bytes;
    };
    const run = async (items: ImageItem[], prepare: PrepareWork, releaseInput?: boolean): Promise<void> => {
      await lastValueFrom(
        from(items).pipe(
          resize({ prepare, ...(releaseInput === undefined ? {} : { releaseInput }) }),
          toArray(),
        ),
      );
    };
    const byFirstByte: PrepareWork = (bytes) => Promise.resolve(prepared(bytes[0]!));

    const whole = owned(1);
    const shared = owned(2);
    await run(
      [
        imageItem({ ref: 'whole', data: whole.data }),
        imageItem({ ref: 'view', data: shared.data.subarray(0, 2) }),
      ],
      byFirstByte,
      true,
    );
    expect(whole.transfer).toHaveBeenCalledTimes(1);
    expect(whole.transfer).toHaveBeenCalledWith(0);
    expect(shared.transfer).not.toHaveBeenCalled();

    // Not asked for; a preparation that failed; one that handed the same bytes back.
    const kept = [owned(3), owned(4), owned(5)];
    await run([imageItem({ ref: 'kept', data: kept[0]!.data })], byFirstByte);
    await run(
      [imageItem({ ref: 'bad', data: kept[1]!.data })],
      () => Promise.reject(new Error('corrupt')),
      true,
    );
    await run(
      [imageItem({ ref: 'same', data: kept[2]!.data })],
      (bytes) => Promise.resolve({ ...prepared(5), data: bytes }),
      true,
    );
    for (const { transfer } of kept) expect(transfer).not.toHaveBeenCalled();
  });

  it('validates its options when called', () => {
    expect(() => resize({ maxPixelsInFlight: 0 })).toThrow(RangeError);
    expect(() => resize({ maxPixelsInFlight: 1.5 })).toThrow(TypeError);
    expect(() => resize({ concurrency: 0 })).toThrow(RangeError);
    expect(() => resize({ concurrency: 1.5 })).toThrow(TypeError);
    expect(() => resize({ mode: 'rough' as never })).toThrow(RangeError);
    expect(() => resize({ maxPixels: -1 })).toThrow(RangeError);
    expect(() => resize({ failOn: 'sometimes' as never })).toThrow(RangeError);
    expect(() => resize({ prepare: 'sharp' as never })).toThrow(TypeError);
    expect(() => resize({ releaseInput: 'yes' as never })).toThrow(TypeError);
  });
});

describe('resize with sharp and real files', () => {
  async function itemsFromDisk(files: Record<string, Uint8Array>): Promise<ImageItem[]> {
    const dir = await mkdtemp(join(tmpdir(), 'athena-resize-'));
    try {
      const items: ImageItem[] = [];
      for (const [index, [name, bytes]] of Object.entries(files).entries()) {
        await writeFile(join(dir, name), bytes);
        items.push(imageItem({ ref: name, data: await readFile(join(dir, name)), index }));
      }
      return items;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('prepares every image or fails it, one outcome each, with prepareImage’s pixels', async () => {
    const photo = await sharp({ create: { width: 1200, height: 800, channels: 3, background: '#204080' } })
      .jpeg()
      .toBuffer();
    const square = await sharp({ create: { width: 448, height: 448, channels: 4, background: '#ff000080' } })
      .png()
      .toBuffer();
    const items = await itemsFromDisk({
      'photo.jpg': photo,
      'square.png': square,
      'broken.jpg': photo.subarray(0, 200),
      'notes.txt': Buffer.from('not an image'),
    });
    const out = await lastValueFrom(from(items).pipe(resize({ concurrency: 2 }), toArray()));
    const byRef = new Map(out.map((item) => [item.ref, item]));
    expect(out).toHaveLength(4);

    const jpeg = byRef.get('photo.jpg') as ImageItem;
    expect(jpeg).toMatchObject({
      kind: 'image',
      format: RAW,
      encoding: UNCOMPRESSED,
      width: 1200,
      height: 800,
      index: 0,
    });
    expect(jpeg.data).toEqual((await prepareImage(photo)).data);
    const png = byRef.get('square.png') as ImageItem;
    expect(png).toMatchObject({ width: 448, height: 448 });
    expect([...png.data.subarray(0, 6)]).toEqual([0, 0, 255, 0, 0, 255]); // alpha dropped, not blended

    expect((byRef.get('broken.jpg') as ItemFailure).stage).toBe('decode');
    expect((byRef.get('broken.jpg') as ItemFailure).error.code).toBe('DECODE_FAILED');
    expect((byRef.get('notes.txt') as ItemFailure).error.code).toBe('UNSUPPORTED_FORMAT');
  });

  it('fails an image over maxPixels and passes raw input through', async () => {
    const big = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    const raw = imageItem({ ref: 'raw', data: new Uint8Array(448 * 448 * 3).fill(5), format: RAW });
    const out = await lastValueFrom(
      from([imageItem({ ref: 'big.png', data: big }), raw]).pipe(resize({ maxPixels: 300 * 299 }), toArray()),
    );
    const byRef = new Map(out.map((item) => [item.ref, item]));
    expect(byRef.get('big.png')).toMatchObject({
      kind: 'failure',
      stage: 'decode',
      error: { code: 'IMAGE_TOO_MANY_PIXELS' },
    });
    expect((byRef.get('raw') as ImageItem).data).toBe(raw.data);
  });

  it('aborts preparations when the subscriber leaves early', async () => {
    const signals: AbortSignal[] = [];
    const slow: PrepareWork = (bytes, options) => {
      signals.push(options.signal!);
      return bytes.length > 1 ? prepareImage(bytes, options) : (NEVER as Observable<PreparedImage>);
    };
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    const items = [
      imageItem({ ref: 'hangs-1', data: new Uint8Array([1]) }),
      imageItem({ ref: 'hangs-2', data: new Uint8Array([2]) }),
    ];
    const first = await lastValueFrom(
      from([...items, imageItem({ ref: 'ok', data: png })]).pipe(
        resize({ prepare: slow, concurrency: 3 }),
        take(1),
      ),
    );
    expect(first).toMatchObject({ ref: 'ok', kind: 'image', width: 8 });
    expect(signals.map((signal) => signal.aborted)).toEqual([true, true, false]);
  });
});
