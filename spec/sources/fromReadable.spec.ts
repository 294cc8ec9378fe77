import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ItemOrFailure } from '../../src/model.js';
import { fromReadable } from '../../src/sources/fromReadable.js';
import { collect, summary, ticks, waitFor } from './helpers.js';

describe('fromReadable', () => {
  it('makes an item per object of an object-mode stream', async () => {
    const stream = Readable.from([
      { name: 'a.jpg', data: Buffer.from([1]) },
      Buffer.from([2]),
      { data: Buffer.alloc(0) },
    ]);
    const values = await collect(fromReadable(stream));
    expect(values.map(summary)).toEqual(['a.jpg', 'buffer-1', 'buffer-2:read:EMPTY_INPUT']);
  });

  it('completes at once on an empty stream', async () => {
    expect(await collect(fromReadable(Readable.from([])))).toEqual([]);
  });

  it('ends with the stream error after the objects already taken', async () => {
    const stream = new PassThrough({ objectMode: true });
    const seen: string[] = [];
    const done = new Promise<unknown>((resolve) => {
      fromReadable(stream).subscribe({
        next: (v) => {
          seen.push(summary(v));
          v.lease?.release();
        },
        error: resolve,
      });
    });
    stream.write({ name: 'one', data: Buffer.from([1]) });
    await ticks();
    stream.destroy(new Error('socket hang up'));
    expect(((await done) as Error).message).toBe('socket hang up');
    expect(seen).toEqual(['one']);
  });

  it('reads the stream only while the window has credits, and destroys it on unsubscribe', async () => {
    let produced = 0;
    const stream = new Readable({
      objectMode: true,
      highWaterMark: 2,
      read() {
        produced += 1;
        this.push(Buffer.from([produced]));
      },
    });
    const seen: ItemOrFailure[] = [];
    const subscription = fromReadable(stream, { window: 3 }).subscribe((v) => seen.push(v));
    await ticks();
    expect(seen).toHaveLength(3);
    // The window (3) plus the stream's own buffer (highWaterMark 2) and one read() in progress.
    expect(produced).toBeLessThanOrEqual(6);
    const before = produced;
    seen[0]!.lease!.release();
    await ticks();
    expect(seen).toHaveLength(4);
    expect(produced - before).toBeLessThanOrEqual(1);
    subscription.unsubscribe();
    await ticks();
    expect(stream.destroyed).toBe(true);
  });

  it('refuses a byte stream and non-streams', () => {
    expect(() => fromReadable(new PassThrough())).toThrow(TypeError);
    expect(() => fromReadable({} as never)).toThrow(TypeError);
    expect(() => fromReadable(Readable.from([]), { window: 0 })).toThrow(RangeError);
  });
});

describe('fromReadable: lease.source.unread()', () => {
  it('does not know how many objects a stream holds until it has ended, 0 then', async () => {
    const stream = new PassThrough({ objectMode: true });
    stream.write(Buffer.from([1]));
    const seen: ItemOrFailure[] = [];
    fromReadable(stream, { window: 1 }).subscribe((v) => seen.push(v));
    await waitFor(() => seen.length >= 1);
    expect(seen[0]!.lease!.source!.unread()).toBeUndefined();
    seen[0]!.lease!.release();
    stream.end();
    await waitFor(() => seen[0]!.lease!.source!.unread() !== undefined);
    expect(seen[0]!.lease!.source!.unread()).toBe(0);
  });
});
