import { take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { ItemOrFailure } from '../../src/model.js';
import { fromBuffers } from '../../src/sources/fromBuffers.js';
import { collect, summary, ticks } from './helpers.js';

describe('fromBuffers', () => {
  it('makes an item per buffer, named or not, keeping meta', async () => {
    const data = new Uint8Array([1, 2]);
    const values = await collect(
      fromBuffers([
        { name: 'upload-1', data, meta: { user: 7 } },
        Buffer.from([3]),
        { data: new ArrayBuffer(2) },
      ]),
    );
    expect(values.map(summary)).toEqual(['upload-1', 'buffer-1', 'buffer-2']);
    expect(values.map((v) => v.index)).toEqual([0, 1, 2]);
    expect(values[0]!.kind === 'image' && values[0]!.data).toBe(data);
    expect(values[0]!.meta).toEqual({ user: 7 });
    expect(values[2]!.kind === 'image' && values[2]!.data.byteLength).toBe(2);
  });

  it('fails empty and invalid entries and goes on', async () => {
    const values = await collect(
      fromBuffers([
        new Uint8Array(0),
        { name: 'n', data: 'text' } as never,
        null as never,
        { name: 'ok', data: new Uint8Array([1]) },
      ]),
    );
    expect(values.map(summary)).toEqual([
      'buffer-0:read:EMPTY_INPUT',
      'n:read:INVALID_INPUT',
      'buffer-2:read:INVALID_INPUT',
      'ok',
    ]);
  });

  it('completes at once when empty', async () => {
    expect(await collect(fromBuffers([]))).toEqual([]);
  });

  it('takes a lazy iterable only as far as the window allows', async () => {
    let made = 0;
    function* generated(): Generator<Uint8Array> {
      for (;;) {
        made += 1;
        yield new Uint8Array([made]);
      }
    }
    const seen: ItemOrFailure[] = [];
    const subscription = fromBuffers(generated(), { window: 3 }).subscribe((v) => seen.push(v));
    await ticks();
    expect(made).toBe(3);
    seen[1]!.lease!.release();
    expect(made).toBe(4);
    subscription.unsubscribe();
  });

  it('stops a never-ending async iterable on unsubscribe', async () => {
    let closed = false;
    async function* endless(): AsyncGenerator<Uint8Array> {
      try {
        for (;;) yield new Uint8Array([1]);
      } finally {
        closed = true;
      }
    }
    const values = await collect(fromBuffers(endless()).pipe(take(5)));
    expect(values).toHaveLength(5);
    await ticks();
    expect(closed).toBe(true);
  });

  it('validates its arguments when called', () => {
    expect(() => fromBuffers(new Uint8Array(3) as never)).toThrow(TypeError);
    expect(() => fromBuffers(5 as never)).toThrow(TypeError);
    expect(() => fromBuffers([], { window: 0 })).toThrow(RangeError);
  });
});

describe('fromBuffers: lease.source.unread()', () => {
  it('counts the buffers of an array not taken yet', () => {
    const seen: ItemOrFailure[] = [];
    const buffers = [new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])];
    const subscription = fromBuffers(buffers, { window: 1 }).subscribe((v) => seen.push(v));
    expect(seen).toHaveLength(1);
    expect(seen[0]!.lease!.source!.unread()).toBe(2);
    seen[0]!.lease!.release();
    expect(seen[1]!.lease!.source!.unread()).toBe(1);
    subscription.unsubscribe();
    expect(seen[0]!.lease!.source!.unread()).toBe(1);
  });

  it('does not know the count of an async iterable until it has ended, 0 then', async () => {
    async function* uploads(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array([1]);
      yield new Uint8Array([2]);
    }
    const seen: ItemOrFailure[] = [];
    const subscription = fromBuffers(uploads(), { window: 1 }).subscribe((v) => seen.push(v));
    await ticks();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.lease!.source!.unread()).toBeUndefined();
    seen[0]!.lease!.release();
    await ticks();
    seen[1]!.lease!.release();
    await ticks();
    expect(subscription.closed).toBe(true);
    expect(seen[0]!.lease!.source!.unread()).toBe(0);
  });
});
