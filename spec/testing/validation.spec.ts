import { BinaryReader } from '@bufbuild/protobuf/wire';
import { credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import sharp from 'sharp';
import { ClassifierServiceService } from '../../src/generated/athena/athena.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClassificationOutput,
  HashType,
  ImageFormat,
  RequestEncoding,
  type ClassificationInput,
} from '../../src/generated/athena/models.js';
import { startAthenaServer, type AthenaServer } from '../../src/testing/server.js';
import {
  brotli,
  classifySingle,
  connect,
  gradientPng,
  openStream,
  rawBgr,
  rawInput,
  request,
  sleep,
  SKY_BLUE,
  solidPng,
  weightOf,
} from './helpers.js';

const KNOWN_MD5 = 'd41d8cd98f00b204e9800998ecf8427e';
const KNOWN_SHA1 = 'DA39A3EE5E6B4B0D3255BFEF95601890AFD80709';
let server: AthenaServer;
let client: ReturnType<typeof connect>;

beforeAll(async () => {
  server = await startAthenaServer({ affiliates: ['acme', 'globex'], knownHashes: [KNOWN_MD5, KNOWN_SHA1] });
  client = connect(server.address);
});
afterAll(async () => {
  client.close();
  await server.close();
});

/** Sends one request on a fresh stream and returns its outputs in order of correlation ids sent. */
async function roundTrip(
  deploymentId: string,
  inputs: ClassificationInput[],
): Promise<ClassificationOutput[]> {
  const s = openStream(client);
  s.send(request(deploymentId, inputs));
  const outputs = await s.waitForOutputs(inputs.length);
  s.call.end();
  await s.ended;
  return outputs;
}

const plain = { encoding: RequestEncoding.REQUEST_ENCODING_UNCOMPRESSED };

describe('validation', () => {
  it('answers each bad input with its own error and the rest of the batch normally', async () => {
    const outputs = await roundTrip('dep', [
      rawInput('good-1'),
      rawInput('', {}),
      rawInput('x'.repeat(65)),
      rawInput('bad-affiliate', { affiliate: 'initech' }),
      rawInput('no-affiliate', { affiliate: '' }),
      rawInput('good-2'),
      rawInput('y'.repeat(64)),
    ]);
    expect(outputs.map((o) => [o.correlationId.slice(0, 8), o.error?.code ?? 'ok'])).toEqual([
      ['good-1', 'ok'],
      ['', 6],
      ['xxxxxxxx', 6],
      ['bad-affi', 4],
      ['no-affil', 4],
      ['good-2', 'ok'],
      ['yyyyyyyy', 'ok'],
    ]);
    expect(outputs[3]?.error?.message).toBe(
      "Affiliate ID 'initech' is not permitted for this client or does not have Athena enabled.",
    );
    expect(outputs[4]?.error?.message).toBe(
      "Affiliate ID '' is not permitted for this client or does not have Athena enabled.",
    );
    expect(outputs[1]?.error?.message).toContain('correlation_id');
    expect(outputs[0]?.classifications.length).toBe(8);
  });

  it('fails every input of a request with a bad deployment id as DEPLOYMENT_ID_INVALID, on the same stream', async () => {
    for (const id of ['', 'd'.repeat(65)]) {
      const outputs = await roundTrip(id, [rawInput('a'), rawInput('b')]);
      expect(outputs.map((o) => [o.correlationId, o.error?.code])).toEqual([
        ['a', 5],
        ['b', 5],
      ]);
      expect(outputs[0]?.error?.message).toContain('deployment_id');
    }
    expect(server.deployments().map((d) => d.deploymentId)).not.toContain('');
    const ok = await roundTrip('d'.repeat(64), [rawInput('c')]);
    expect(ok[0]?.error).toBeUndefined();
  });

  it('rejects image data it cannot use, with documented codes and messages', async () => {
    const raw = rawBgr(SKY_BLUE);
    const outputs = await roundTrip('dep', [
      rawInput('no-format', { format: ImageFormat.IMAGE_FORMAT_UNSPECIFIED }),
      rawInput('garbage', {
        ...plain,
        data: Buffer.from('definitely not an image'),
        format: ImageFormat.IMAGE_FORMAT_PNG,
      }),
      rawInput('short-raw', { ...plain, data: raw.subarray(0, 602_111) }),
      rawInput('long-raw', { data: brotli(Buffer.concat([raw, Buffer.alloc(3)])) }),
      rawInput('small-png', {
        ...plain,
        data: await solidPng(SKY_BLUE, 100),
        format: ImageFormat.IMAGE_FORMAT_PNG,
      }),
      rawInput('wide-jpeg', {
        ...plain,
        data: await sharp(raw, { raw: { width: 448, height: 448, channels: 3 } })
          .resize(449, 448)
          .jpeg()
          .toBuffer(),
        format: ImageFormat.IMAGE_FORMAT_JPEG,
      }),
      rawInput('bad-brotli', { data: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]) }),
      rawInput('no-data', { ...plain, data: Buffer.alloc(0) }),
      rawInput('odd-encoding', { encoding: 7 as RequestEncoding }),
      rawInput('fine'),
    ]);
    const codes = Object.fromEntries(outputs.map((o) => [o.correlationId, o.error?.code ?? 'ok']));
    expect(codes).toEqual({
      'no-format': 0,
      garbage: 0,
      'short-raw': 2,
      'long-raw': 2,
      'small-png': 2,
      'wide-jpeg': 2,
      'bad-brotli': 0,
      'no-data': 0,
      'odd-encoding': 0,
      fine: 'ok',
    });
    for (const o of outputs.slice(0, -1)) expect(o.error?.message).toContain('Image Classification Error');
    expect(outputs.find((o) => o.correlationId === 'small-png')?.error?.message).toContain('100x100');
    expect(outputs.find((o) => o.correlationId === 'short-raw')?.error?.message).toContain('602111');
  });

  it('keeps the stream open after output errors', async () => {
    const s = openStream(client);
    s.send(request('dep', [rawInput('bad', { affiliate: 'nope' })]));
    await s.waitForOutputs(1);
    s.send(request('dep', [rawInput('next')]));
    const outputs = await s.waitForOutputs(2);
    expect(outputs[1]).toMatchObject({ correlationId: 'next', error: undefined });
    s.call.end();
    await s.ended;
  });
});

describe('decoding', () => {
  it('decodes PNG, RGBA PNG, grey PNG and lossless WebP to the same pixels as raw BGR', async () => {
    const colour = { r: 200, g: 120, b: 40 };
    const greyLevel = { r: 90, g: 90, b: 90 };
    const make = (channels: 3 | 4, c: typeof colour) =>
      sharp({ create: { width: 448, height: 448, channels, background: { ...c, alpha: 1 } } });
    const outputs = await roundTrip('dep', [
      rawInput('raw', { ...plain, data: rawBgr(colour) }),
      rawInput('png', {
        ...plain,
        data: await make(3, colour).png().toBuffer(),
        format: ImageFormat.IMAGE_FORMAT_PNG,
      }),
      rawInput('rgba', {
        data: brotli(await make(4, colour).png().toBuffer()),
        format: ImageFormat.IMAGE_FORMAT_PNG,
      }),
      rawInput('webp', {
        ...plain,
        data: await make(3, colour).webp({ lossless: true }).toBuffer(),
        format: ImageFormat.IMAGE_FORMAT_WEBP,
      }),
      rawInput('grey-raw', { ...plain, data: rawBgr(greyLevel) }),
      rawInput('grey-png', {
        ...plain,
        data: await make(3, greyLevel).toColourspace('b-w').png().toBuffer(),
        format: ImageFormat.IMAGE_FORMAT_PNG,
      }),
    ]);
    const weights = (o: ClassificationOutput | undefined) => o?.classifications.map((c) => c.weight);
    expect(outputs.every((o) => o.error === undefined)).toBe(true);
    expect(weights(outputs[1])).toEqual(weights(outputs[0]));
    expect(weights(outputs[2])).toEqual(weights(outputs[0]));
    expect(weights(outputs[3])).toEqual(weights(outputs[0]));
    expect(weights(outputs[5])).toEqual(weights(outputs[4]));
    expect(weights(outputs[4])).not.toEqual(weights(outputs[0]));
  });

  it('classifies a gradient PNG without error', async () => {
    const [o] = await roundTrip('dep', [
      rawInput('gradient', { ...plain, data: await gradientPng(), format: ImageFormat.IMAGE_FORMAT_PNG }),
    ]);
    expect(o?.error).toBeUndefined();
    expect(weightOf(o!, 'UnknownCSAM-Entropy')).toBeGreaterThan(0);
  });
});

describe('known hashes', () => {
  it('gives KnownCSAM-MD5/SHA1 per hash type sent: 1.0 on a match, a label without weight otherwise', async () => {
    const outputs = await roundTrip('dep', [
      rawInput('md5-hit', { hashes: [{ type: HashType.HASH_TYPE_MD5, value: KNOWN_MD5 }] }),
      rawInput('both', {
        hashes: [
          { type: HashType.HASH_TYPE_MD5, value: '0'.repeat(32) },
          { type: HashType.HASH_TYPE_SHA1, value: KNOWN_SHA1.toLowerCase() },
        ],
      }),
      rawInput('miss', { hashes: [{ type: HashType.HASH_TYPE_SHA1, value: 'f'.repeat(40) }] }),
      rawInput('none'),
    ]);
    const known = (o: ClassificationOutput | undefined) =>
      o?.classifications.filter((c) => c.label.startsWith('KnownCSAM-')).map((c) => [c.label, c.weight]);
    expect(known(outputs[0])).toEqual([['KnownCSAM-MD5', 1]]);
    expect(known(outputs[1])).toEqual([
      ['KnownCSAM-MD5', 0],
      ['KnownCSAM-SHA1', 1],
    ]);
    expect(known(outputs[2])).toEqual([['KnownCSAM-SHA1', 0]]);
    expect(known(outputs[3])).toEqual([]);
    expect(outputs[0]?.classifications).toHaveLength(9);
  });

  it('sends a 0.0 weight as a label without weight on the wire', async () => {
    const RawClient = makeGenericClientConstructor(
      {
        classifySingle: {
          ...ClassifierServiceService.classifySingle,
          responseDeserialize: (bytes: Buffer) => bytes,
        },
      },
      'athena.ClassifierService',
    );
    const raw = new RawClient(server.address, credentials.createInsecure()) as unknown as {
      classifySingle(input: ClassificationInput, cb: (e: Error | null, r: Buffer) => void): void;
      close(): void;
    };
    const input = rawInput('miss', { hashes: [{ type: HashType.HASH_TYPE_MD5, value: 'a'.repeat(32) }] });
    const bytes = await new Promise<Buffer>((resolve, reject) =>
      raw.classifySingle(input, (e, r) => (e ? reject(e) : resolve(r))),
    );
    raw.close();
    const fields = new Map<string, number[]>();
    const reader = new BinaryReader(bytes);
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field !== 2) {
        reader.skip(wireType);
        continue;
      }
      const sub = new BinaryReader(reader.bytes());
      let label = '';
      const present: number[] = [];
      while (sub.pos < sub.len) {
        const [f, w] = sub.tag();
        present.push(f);
        if (f === 1) label = sub.string();
        else sub.skip(w);
      }
      fields.set(label, present);
    }
    expect(fields.get('KnownCSAM-MD5')).toEqual([1]);
    expect(fields.get('UnknownCSAM-Lakeside')).toEqual([1, 2]);
  });

  it('answers a hash-only input (no data) with the KnownCSAM labels alone', async () => {
    const o = await classifySingle(
      client,
      rawInput('hash-only', {
        ...plain,
        data: Buffer.alloc(0),
        format: 0,
        hashes: [{ type: HashType.HASH_TYPE_MD5, value: KNOWN_MD5 }],
      }),
    );
    expect(o.error).toBeUndefined();
    expect(o.classifications.map((c) => [c.label, c.weight])).toEqual([['KnownCSAM-MD5', 1]]);
  });

  it('can leave the UnknownCSAM labels out on a match', async () => {
    const other = await startAthenaServer({ knownHashes: [KNOWN_MD5], omitUnknownOnKnownMatch: true });
    const c = connect(other.address);
    const hit = await classifySingle(
      c,
      rawInput('hit', { hashes: [{ type: HashType.HASH_TYPE_MD5, value: KNOWN_MD5 }] }),
    );
    const miss = await classifySingle(
      c,
      rawInput('miss', { hashes: [{ type: HashType.HASH_TYPE_MD5, value: 'b'.repeat(32) }] }),
    );
    expect(hit.classifications.map((x) => x.label)).toEqual(['KnownCSAM-MD5']);
    expect(miss.classifications).toHaveLength(9);
    c.close();
    await other.close();
    await sleep(0);
  });
});
