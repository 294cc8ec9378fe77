import { createHash } from 'node:crypto';
import { firstValueFrom, from, lastValueFrom, of, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import { imageItem, toFailure, type ImageItem, type ItemOrFailure, type Lease } from '../../src/model.js';
import { correlate, type CorrelateOptions } from '../../src/operators/correlate.js';

const item = (ref: string, bytes: number[] = [1], extra: Partial<ImageItem> = {}): ImageItem =>
  imageItem({ ref, data: new Uint8Array(bytes), ...extra });
const a = item('a');
const b = item('b');
const f = toFailure({ ref: 'f' }, 'read', new AthenaError('READ_FAILED', 'gone'));
const byRef = (i: ImageItem) => `id-${i.ref}`;
const withId = (i: ImageItem, correlationId: string) => ({ ...i, correlationId });

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

async function run(values: ItemOrFailure[], options: CorrelateOptions): Promise<ItemOrFailure[]> {
  return lastValueFrom(from(values).pipe(correlate(options), toArray()));
}

const idOf = (v: ItemOrFailure | undefined): string | undefined => v?.correlationId;
const codeOf = (v: ItemOrFailure | undefined): string | undefined =>
  v?.kind === 'failure' ? v.error.code : undefined;

describe('correlate (marbles)', () => {
  it('completes on an empty source', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<ItemOrFailure>('|').pipe(correlate())).toBe('|');
    });
  });

  it('gives one item an id from the provider', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const output = cold<ItemOrFailure>('-a|', { a }).pipe(correlate({ provider: byRef }));
      expectObservable(output).toBe('-x|', { x: withId(a, 'id-a') });
    });
  });

  it('gives many ids in order, keeps existing ids and passes failures', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const c = withId(item('c'), 'kept');
      const output = cold<ItemOrFailure>('ab-cf|', { a, b, c, f }).pipe(correlate({ provider: byRef }));
      expectObservable(output).toBe('xy-cf|', { x: withId(a, 'id-a'), y: withId(b, 'id-b'), c, f });
    });
  });

  it('passes an error on', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<ItemOrFailure>('a#', { a }).pipe(correlate({ provider: byRef }))).toBe('x#', {
        x: withId(a, 'id-a'),
      });
    });
  });

  it('waits on a never-ending source and stops content digests on unsubscribe', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const digest = cold('---x|', { x: 'ab'.repeat(32) });
      const output = cold<ItemOrFailure>('a---', { a }).pipe(
        correlate({ provider: 'content', digest: () => digest }),
      );
      expectObservable(output, '^-!').toBe('---');
      expectSubscriptions(digest.subscriptions).toBe('^-!');
      expectObservable(cold<ItemOrFailure>('-a--', { a }).pipe(correlate({ provider: byRef }))).toBe('-x--', {
        x: withId(a, 'id-a'),
      });
    });
  });
});

describe('correlate', () => {
  it('gives random UUIDs by default', async () => {
    const values = await run([a, b, item('c')], {});
    const ids = values.map(idOf);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(3);
  });

  it('gives content ids: a SHA-256 prefix, with a suffix while the same content is in flight', async () => {
    const sha = createHash('sha256')
      .update(Buffer.from([5, 6]))
      .digest('hex')
      .slice(0, 40);
    let released = 0;
    const lease: Lease = { release: () => (released += 1) };
    const same = [item('x', [5, 6], { lease }), item('y', [5, 6], { lease }), item('z', [5, 6], { lease })];
    const values = await run([...same, item('w', [7])], { provider: 'content' });
    expect(values.map(idOf)).toEqual([
      sha,
      `${sha}-1`,
      `${sha}-2`,
      createHash('sha256')
        .update(Buffer.from([7]))
        .digest('hex')
        .slice(0, 40),
    ]);
    expect(values.every((v) => (idOf(v) ?? '').length <= 63)).toBe(true);
  });

  it('frees an id when the lease of its item is released, and passes the release on', async () => {
    const sha = createHash('sha256')
      .update(Buffer.from([1]))
      .digest('hex')
      .slice(0, 40);
    let released = 0;
    const lease: Lease = { release: () => (released += 1) };
    const source = from([item('x', [1], { lease }), item('y', [1], { lease }), item('z', [1], { lease })]);
    const seen: ItemOrFailure[] = [];
    await new Promise<void>((resolve) =>
      source.pipe(correlate({ provider: 'content' })).subscribe({
        next: (v) => {
          seen.push(v);
          if (v.ref === 'x') {
            v.lease?.release();
            v.lease?.release();
          }
        },
        complete: resolve,
      }),
    );
    // x is released as it arrives, so y may take its id again; y is still in flight when z comes.
    expect(seen.map(idOf)).toEqual([sha, sha, `${sha}-1`]);
    expect(released).toBe(1);
  });

  it('fails invalid ids from a user function, and duplicates in flight', async () => {
    const ids: unknown[] = ['ok', '', 'x'.repeat(64), 42, 'ok', 'y'.repeat(63)];
    const values = await run(
      ids.map((_, i) => item(`r${i}`)),
      { provider: (_, index) => ids[index] as string },
    );
    expect(values.map((v) => codeOf(v) ?? idOf(v))).toEqual([
      'ok',
      'INVALID_ID',
      'INVALID_ID',
      'INVALID_ID',
      'DUPLICATE_ID',
      'y'.repeat(63),
    ]);
    expect(
      values
        .filter((v) => v.kind === 'failure')
        .every((v) => v.kind === 'failure' && v.stage === 'correlate'),
    ).toBe(true);
  });

  it('turns a throwing user function into an INVALID_ID failure', async () => {
    const [value] = await run([a], {
      provider: () => {
        throw new Error('no id for you');
      },
    });
    expect(codeOf(value)).toBe('INVALID_ID');
  });

  it('replaces existing ids with overwrite', async () => {
    const value = await firstValueFrom(
      of(withId(a, 'old')).pipe(correlate({ provider: byRef, overwrite: true })),
    );
    expect(idOf(value)).toBe('id-a');
  });

  it('validates its options when called', () => {
    expect(() => correlate({ provider: 'random' as never })).toThrow(TypeError);
    expect(() => correlate({ overwrite: 'yes' as never })).toThrow(TypeError);
    expect(() => correlate({ digest: 5 as never })).toThrow(TypeError);
  });
});
