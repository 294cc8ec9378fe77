import { describe, expect, it } from 'vitest';
import { ImageFormat, RequestEncoding } from '../../../src/generated/athena/models.js';
import { checkItem, classifyRequest, toClassificationInput } from '../../../src/internal/classify/request.js';
import { imageItem } from '../../../src/model.js';

const item = (extra: Parameters<typeof imageItem>[0] extends infer T ? Partial<T> : never = {}) =>
  imageItem({
    ref: 'a.png',
    data: new Uint8Array([1, 2, 3]),
    format: ImageFormat.IMAGE_FORMAT_PNG,
    correlationId: 'id-1',
    ...extra,
  });

describe('checkItem', () => {
  it('accepts an item with an id and a format, or with no bytes at all', () => {
    expect(checkItem(item())).toBeUndefined();
    expect(
      checkItem(item({ data: new Uint8Array(0), format: ImageFormat.IMAGE_FORMAT_UNSPECIFIED })),
    ).toBeUndefined();
    expect(checkItem(item({ correlationId: 'x'.repeat(63) }))).toBeUndefined();
  });

  it.each([
    [{ correlationId: undefined }, 'INVALID_ID', /correlate\(\)/],
    [{ correlationId: '' }, 'INVALID_ID', /correlate\(\)/],
    [{ correlationId: 'x'.repeat(64) }, 'INVALID_ID', /64 characters, at most 63/],
    [{ format: ImageFormat.IMAGE_FORMAT_UNSPECIFIED }, 'INVALID_INPUT', /no format/],
  ])('rejects %o', (extra, code, message) => {
    const error = checkItem(item(extra));
    expect(error?.code).toBe(code);
    expect(error?.message).toMatch(message);
    expect(error?.message).toContain('a.png');
  });
});

describe('toClassificationInput', () => {
  it('carries the affiliate, id, encoding, format, hashes and the bytes without copying them', () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    const data = backing.subarray(2, 5);
    const input = toClassificationInput(
      item({ data, encoding: RequestEncoding.REQUEST_ENCODING_BROTLI, hashes: [{ value: 'ab', type: 2 }] }),
      'acme',
    );
    expect(input).toMatchObject({
      affiliate: 'acme',
      correlationId: 'id-1',
      encoding: RequestEncoding.REQUEST_ENCODING_BROTLI,
      format: ImageFormat.IMAGE_FORMAT_PNG,
      hashes: [{ value: 'ab', type: 2 }],
    });
    expect(Buffer.isBuffer(input.data)).toBe(true);
    expect([...input.data]).toEqual([1, 2, 3]);
    backing[2] = 7;
    expect(input.data[0]).toBe(7);
  });

  it('makes an empty request a keepalive for the deployment', () => {
    expect(classifyRequest('dep')).toEqual({ deploymentId: 'dep', inputs: [] });
  });
});
