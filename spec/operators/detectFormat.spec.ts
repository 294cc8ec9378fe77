import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import {
  ImageFormat,
  RequestEncoding,
  imageItem,
  toFailure,
  type ImageItem,
  type ItemOrFailure,
} from '../../src/model.js';
import { detectFormat } from '../../src/operators/detectFormat.js';

const F = ImageFormat;
const JPEG_BYTES = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]);
const PNG_BYTES = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]);
const a = imageItem({ ref: 'a.bin', data: JPEG_BYTES, index: 0 });
const b = imageItem({ ref: 'b.bin', data: PNG_BYTES, format: F.IMAGE_FORMAT_JPEG, correlationId: 'c-b' });
const e = imageItem({ ref: 'e.bin', data: new Uint8Array(0) });
const u = imageItem({ ref: 'u.bin', data: new Uint8Array([1, 2, 3, 4]) });
const f = toFailure({ ref: 'f.bin' }, 'read', new AthenaError('READ_FAILED', 'gone'));
const raw = imageItem({ ref: 'raw', data: new Uint8Array(3), format: F.IMAGE_FORMAT_RAW_UINT8_BGR });
const brotli = imageItem({
  ref: 'z',
  data: new Uint8Array([9]),
  encoding: RequestEncoding.REQUEST_ENCODING_BROTLI,
});

const withFormat = (item: ImageItem, format: ImageFormat): ImageItem => ({ ...item, format });

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('detectFormat (marbles)', () => {
  it('completes on an empty source', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<ItemOrFailure>('|').pipe(detectFormat())).toBe('|');
    });
  });

  it('sets the format of one image from its bytes', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<ItemOrFailure>('-a|', { a }).pipe(detectFormat())).toBe('-x|', {
        x: withFormat(a, F.IMAGE_FORMAT_JPEG),
      });
    });
  });

  it('handles many at the same time and corrects a wrong declared format', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold<ItemOrFailure>('ab-euf|', { a, b, e, u, f });
      expectObservable(source.pipe(detectFormat())).toBe('xy-EUf|', {
        x: withFormat(a, F.IMAGE_FORMAT_JPEG),
        y: withFormat(b, F.IMAGE_FORMAT_PNG),
        E: toFailure(e, 'detect', new AthenaError('EMPTY_INPUT', 'e.bin has no bytes')),
        U: toFailure(
          u,
          'detect',
          new AthenaError('UNSUPPORTED_FORMAT', 'u.bin is not in a recognised image format'),
        ),
        f,
      });
    });
  });

  it('lets prepared and Brotli-encoded items through untouched', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<ItemOrFailure>('rz|', { r: raw, z: brotli }).pipe(detectFormat())).toBe('rz|', {
        r: raw,
        z: brotli,
      });
    });
  });

  it('fails formats outside `accept`', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold<ItemOrFailure>('ab|', { a, b });
      expectObservable(source.pipe(detectFormat({ accept: [F.IMAGE_FORMAT_PNG] }))).toBe('xy|', {
        x: toFailure(
          a,
          'detect',
          new AthenaError('UNSUPPORTED_FORMAT', 'a.bin is IMAGE_FORMAT_JPEG, which is not accepted'),
        ),
        y: withFormat(b, F.IMAGE_FORMAT_PNG),
      });
    });
  });

  it('passes an error on after the items before it', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold<ItemOrFailure>('a-#', { a }, new Error('source broke'));
      expectObservable(source.pipe(detectFormat())).toBe(
        'x-#',
        { x: withFormat(a, F.IMAGE_FORMAT_JPEG) },
        new Error('source broke'),
      );
    });
  });

  it('stays open on a never-ending source and unsubscribes from it', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<ItemOrFailure>('a---', { a });
      expectObservable(source.pipe(detectFormat()), '^--!').toBe('x--', {
        x: withFormat(a, F.IMAGE_FORMAT_JPEG),
      });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('validates `accept` when called', () => {
    expect(() => detectFormat({ accept: 'png' as never })).toThrow(TypeError);
    expect(() => detectFormat({ accept: [99 as ImageFormat] })).toThrow(RangeError);
    expect(() => detectFormat({ accept: [] })).not.toThrow();
  });
});

describe('detectFormat with real files', () => {
  it('names what encoders wrote to disk, whatever the file is called', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'athena-detect-'));
    try {
      const pixels = sharp({ create: { width: 8, height: 8, channels: 3, background: '#336699' } });
      const files = {
        'photo.png': await pixels.clone().jpeg().toBuffer(), // misnamed on purpose
        'picture.jpg': await pixels.clone().png().toBuffer(),
        'anim.gif': await pixels.clone().gif().toBuffer(),
        'image.webp': await pixels.clone().webp().toBuffer(),
        'notes.txt': Buffer.from('just text'),
      };
      const items: ItemOrFailure[] = [];
      for (const [name, bytes] of Object.entries(files)) {
        await writeFile(join(dir, name), bytes);
        items.push(imageItem({ ref: name, data: await readFile(join(dir, name)) }));
      }
      const out = await lastValueFrom(from(items).pipe(detectFormat(), toArray()));
      expect(out.map((item) => (item.kind === 'image' ? ImageFormat[item.format] : item.error.code))).toEqual(
        [
          'IMAGE_FORMAT_JPEG',
          'IMAGE_FORMAT_PNG',
          'IMAGE_FORMAT_GIF',
          'IMAGE_FORMAT_WEBP',
          'UNSUPPORTED_FORMAT',
        ],
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
