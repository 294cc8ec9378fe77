import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { hashImage } from '../../src/browser/hashImage.js';
import { HashType, ImageFormat, imageItem } from '../../src/model.js';
import { root } from '../support/package.js';

describe('hashImage (browser, hash-wasm)', () => {
  it("gives the same MD5 and SHA1 of the original bytes as node:crypto, in the Node operator's fields", async () => {
    const bytes = new Uint8Array(await readFile(join(root, 'samples/24-summer1am-small.png')));
    const empty = new Uint8Array(0);
    const out = await lastValueFrom(
      from([imageItem({ ref: 'a', data: bytes }), imageItem({ ref: 'b', data: empty })]).pipe(
        hashImage(),
        toArray(),
      ),
    );
    const expected = (data: Uint8Array): { type: HashType; value: string }[] => [
      { type: HashType.HASH_TYPE_MD5, value: createHash('md5').update(data).digest('hex') },
      { type: HashType.HASH_TYPE_SHA1, value: createHash('sha1').update(data).digest('hex') },
    ];
    expect(out.map((o) => (o.kind === 'image' ? o.hashes : o.error.code))).toEqual([
      expected(bytes),
      expected(empty),
    ]);
  });

  it('refuses prepared bytes with a hash failure, and bad options when called', async () => {
    const prepared = imageItem({
      ref: 'p',
      data: new Uint8Array(3),
      format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR,
    });
    const [out] = await lastValueFrom(from([prepared]).pipe(hashImage(), toArray()));
    expect(out?.kind === 'failure' && [out.stage, out.error.code]).toEqual(['hash', 'INVALID_INPUT']);
    expect(() => hashImage({ types: [] })).toThrow(TypeError);
    expect(() => hashImage({ types: [7 as HashType] })).toThrow(RangeError);
  });
});
