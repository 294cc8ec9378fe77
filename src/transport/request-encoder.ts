/**
 * The wire encoding of `ClassifyRequest`, sized first and written once. The generated encoder grows
 * its buffer by doubling, moves every input's bytes again when it writes their length prefix,
 * slices the result, and the generated grpc-js serializer copies that once more: about five copies
 * of every image per request before grpc-js frames it. This one allocates a Buffer of the exact size
 * and copies each image into it once.
 *
 * The bytes are those of the generated encoder: fields in number order, proto3 defaults left out,
 * negative enum values as ten-byte varints. Messages it does not cover (unknown fields, an enum value
 * that is not an int32) go to the generated encoder, which also reports what is wrong with them.
 */
import { ClassifyRequest, type ClassificationInput, type ImageHash } from '../generated/athena/models.js';

/** True when `A` and `B` are the same set of keys. */
type SameKeys<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

// The fields written below. A field added to these messages in the proto fails the build here, so
// the encoder cannot fall behind `npm run proto`.
const requestFields: SameKeys<keyof ClassifyRequest, 'deploymentId' | 'inputs' | '_unknownFields'> = true;
const inputFields: SameKeys<
  keyof ClassificationInput,
  'affiliate' | 'correlationId' | 'encoding' | 'data' | 'format' | 'hashes' | '_unknownFields'
> = true;
const hashFields: SameKeys<keyof ImageHash, 'value' | 'type' | '_unknownFields'> = true;
void [requestFields, inputFields, hashFields];

const isInt32 = (n: number): boolean => Number.isInteger(n) && n >= -0x80000000 && n <= 0x7fffffff;

/** Bytes of `n` (0 to 2^32 - 1) as a varint. */
function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

const int32Size = (n: number): number => (n < 0 ? 10 : varintSize(n));
const stringField = (bytes: number): number => (bytes === 0 ? 0 : 1 + varintSize(bytes) + bytes);
const enumField = (n: number): number => (n === 0 ? 0 : 1 + int32Size(n));

function covered(message: ClassifyRequest): boolean {
  if (message._unknownFields !== undefined) return false;
  return message.inputs.every(
    (input) =>
      input._unknownFields === undefined &&
      isInt32(input.encoding) &&
      isInt32(input.format) &&
      input.hashes.every((hash) => hash._unknownFields === undefined && isInt32(hash.type)),
  );
}

/** `ClassifyRequest` as protobuf bytes, in a Buffer of its own. */
export function encodeClassifyRequest(message: ClassifyRequest): Buffer {
  if (!covered(message)) {
    const bytes = ClassifyRequest.encode(message).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  // Sizes first, in the order they are written: every string's UTF-8 length, and the size of each
  // nested message (an input, then its hashes), then the whole request.
  const lengths: number[] = [];
  const utf8 = (s: string): number => {
    const n = s === '' ? 0 : Buffer.byteLength(s, 'utf8');
    lengths.push(n);
    return n;
  };
  const hashSize = (hash: ImageHash): number => stringField(utf8(hash.value)) + enumField(hash.type);
  const nestedSizes: number[] = [];
  const inputSize = (input: ClassificationInput): number => {
    let size = stringField(utf8(input.affiliate)) + stringField(utf8(input.correlationId));
    size += enumField(input.encoding) + stringField(input.data.length) + enumField(input.format);
    for (const hash of input.hashes) {
      const n = hashSize(hash);
      nestedSizes.push(n);
      size += 1 + varintSize(n) + n;
    }
    return size;
  };
  let total = stringField(utf8(message.deploymentId));
  for (const input of message.inputs) {
    const at = nestedSizes.push(0) - 1;
    const n = inputSize(input);
    nestedSizes[at] = n;
    total += 1 + varintSize(n) + n;
  }

  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  let nextLength = 0;
  let nextSize = 0;
  const varint = (n: number): void => {
    while (n > 0x7f) {
      out[pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    out[pos++] = n;
  };
  const int32 = (n: number): void => {
    if (n >= 0) return varint(n);
    for (let i = 0; i < 9; i++) {
      out[pos++] = (n & 0x7f) | 0x80;
      n >>= 7;
    }
    out[pos++] = 1;
  };
  const string = (tag: number, s: string): void => {
    const n = lengths[nextLength++]!;
    if (n === 0) return;
    out[pos++] = tag;
    varint(n);
    pos += out.write(s, pos, n, 'utf8');
  };
  const enumeration = (tag: number, n: number): void => {
    if (n === 0) return;
    out[pos++] = tag;
    int32(n);
  };
  const nested = (tag: number): void => {
    out[pos++] = tag;
    varint(nestedSizes[nextSize++]!);
  };

  string(10, message.deploymentId);
  for (const input of message.inputs) {
    nested(18);
    string(10, input.affiliate);
    string(18, input.correlationId);
    enumeration(24, input.encoding);
    if (input.data.length !== 0) {
      out[pos++] = 34;
      varint(input.data.length);
      out.set(input.data, pos);
      pos += input.data.length;
    }
    enumeration(40, input.format);
    for (const hash of input.hashes) {
      nested(50);
      string(10, hash.value);
      enumeration(16, hash.type);
    }
  }
  return out;
}
