import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ClassifyRequest,
  type ClassificationInput,
  type RequestEncoding,
} from '../../src/generated/athena/models.js';
import { encodeClassifyRequest } from '../../src/transport/request-encoder.js';

const generated = (message: ClassifyRequest): Buffer => Buffer.from(ClassifyRequest.encode(message).finish());

// Strings of any UTF-16 code units, lone surrogates included; enum values over all of int32.
const text = fc.oneof(
  fc.constant(''),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 3 }),
);
const enumValue = fc.oneof(
  fc.constantFrom(0, 1, 2, 127, 128, 300),
  fc.integer({ min: -0x80000000, max: 0x7fffffff }),
);
const input: fc.Arbitrary<ClassificationInput> = fc.record({
  affiliate: text,
  correlationId: text,
  encoding: enumValue,
  data: fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
    fc.integer({ min: 16_000, max: 20_000 }).map((n) => Buffer.alloc(n, 7)),
  ),
  format: enumValue,
  hashes: fc.array(fc.record({ value: text, type: enumValue }), { maxLength: 3 }),
});
const request = fc.record({ deploymentId: text, inputs: fc.array(input, { maxLength: 5 }) });

describe('encodeClassifyRequest', () => {
  it('writes exactly the bytes of the generated encoder', () => {
    fc.assert(
      fc.property(request, (message) => {
        const ours = encodeClassifyRequest(message);
        expect(ours.equals(generated(message))).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('writes length prefixes on both sides of every varint width', () => {
    for (const n of [127, 128, 16_383, 16_384, 2_097_151, 2_097_152]) {
      for (const size of [n, n - 5]) {
        const message: ClassifyRequest = {
          deploymentId: 'd',
          inputs: [
            {
              affiliate: 'a',
              correlationId: 'c',
              encoding: 0,
              data: Buffer.alloc(size, 1),
              format: 1,
              hashes: [],
            },
          ],
        };
        expect(encodeClassifyRequest(message).equals(generated(message)), `${size} bytes`).toBe(true);
      }
    }
  });

  it('decodes back to the request it was given', () => {
    const data = Buffer.alloc(2_100_000, 3); // a four-byte length prefix
    const message: ClassifyRequest = {
      deploymentId: 'moderation-eu',
      inputs: [
        {
          affiliate: 'acme',
          correlationId: 'a-1',
          encoding: 2,
          data,
          format: 5,
          hashes: [{ value: 'ab12', type: 1 }],
        },
        {
          affiliate: 'acme',
          correlationId: 'a-2',
          encoding: 0,
          data: Buffer.alloc(0),
          format: 0,
          hashes: [],
        },
      ],
    };
    const decoded = ClassifyRequest.decode(encodeClassifyRequest(message));
    expect(decoded.deploymentId).toBe('moderation-eu');
    expect(decoded.inputs.map((i) => i.correlationId)).toEqual(['a-1', 'a-2']);
    expect(Buffer.from(decoded.inputs[0]!.data).equals(data)).toBe(true);
    expect(decoded.inputs[0]!.hashes.map(({ value, type }) => ({ value, type }))).toEqual([
      { value: 'ab12', type: 1 },
    ]);
  });

  it('leaves messages with unknown fields to the generated encoder', () => {
    const message: ClassifyRequest = {
      deploymentId: 'd',
      inputs: [],
      _unknownFields: { 90: [Uint8Array.of(1)] },
    };
    expect(encodeClassifyRequest(message).equals(generated(message))).toBe(true);
    expect(encodeClassifyRequest(message).length).toBeGreaterThan(3);
  });

  it('rejects an enum value that is not an int32 as the generated encoder does', () => {
    const message: ClassifyRequest = {
      deploymentId: 'd',
      inputs: [
        {
          affiliate: 'a',
          correlationId: 'c',
          encoding: 1.5 as RequestEncoding,
          data: Buffer.alloc(0),
          format: 0,
          hashes: [],
        },
      ],
    };
    expect(() => generated(message)).toThrow();
    expect(() => encodeClassifyRequest(message)).toThrow();
  });
});
