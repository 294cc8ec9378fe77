import { brotliCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClassificationInput,
  ErrorCode,
  ImageFormat,
  RequestEncoding,
} from '../../src/generated/athena/models.js';
import { startAthenaServer, type AthenaServer } from '../../src/testing/server.js';
import { classifySingle, connect, openStream, rawInput, request } from './helpers.js';

let server: AthenaServer;
let client: ReturnType<typeof connect>;

beforeAll(async () => {
  server = await startAthenaServer({ affiliates: ['acme'] });
  client = connect(server.address);
});
afterAll(async () => {
  client.close();
  await server.close();
});

/** 80 MiB of zeros in about a hundred bytes of Brotli: over the 64 MiB the server decompresses. */
const bomb = brotliCompressSync(Buffer.alloc(80 * 1024 * 1024));

async function roundTrip(deploymentId: string, inputs: ClassificationInput[]) {
  const s = openStream(client);
  s.send(request(deploymentId, inputs));
  const outputs = await s.waitForOutputs(inputs.length, 30_000);
  s.call.end();
  await s.ended;
  return outputs.map((o) => [o.correlationId, o.error?.code ?? 'ok', o.error?.message ?? ''] as const);
}

describe('the documented order: deployment id, correlation id, affiliate, then the image', () => {
  it('reports the first problem of an input that has several', async () => {
    const badImage = { data: Buffer.from('not an image'), format: ImageFormat.IMAGE_FORMAT_PNG };
    const outputs = await roundTrip('order', [
      rawInput('', { affiliate: 'initech', ...badImage }),
      rawInput('x'.repeat(65), { affiliate: '' }),
      rawInput('affiliate-and-image', { affiliate: 'initech', ...badImage }),
      rawInput('image', badImage),
    ]);
    expect(outputs.map(([id, code]) => [id.slice(0, 20), code])).toEqual([
      ['', ErrorCode.ERROR_CODE_CORRELATION_ID_INVALID],
      ['x'.repeat(20), ErrorCode.ERROR_CODE_CORRELATION_ID_INVALID],
      ['affiliate-and-image', ErrorCode.ERROR_CODE_AFFILIATE_NOT_PERMITTED],
      ['image', ErrorCode.ERROR_CODE_UNSPECIFIED],
    ]);
    expect(outputs[0]![2]).toBe('The correlation_id must not be empty.');
  });

  it('puts a bad deployment id before everything else', async () => {
    const outputs = await roundTrip('d'.repeat(65), [rawInput('', { affiliate: 'initech' })]);
    expect(outputs.map(([, code]) => code)).toEqual([ErrorCode.ERROR_CODE_DEPLOYMENT_ID_INVALID]);
  });
});

describe('a Brotli bomb', () => {
  const bombInput = (correlationId: string, format: ImageFormat) =>
    ClassificationInput.fromPartial({
      affiliate: 'acme',
      correlationId,
      encoding: RequestEncoding.REQUEST_ENCODING_BROTLI,
      data: bomb,
      format,
    });

  it('is IMAGE_TOO_LARGE (never retryable), on the stream and in ClassifySingle', async () => {
    expect(bomb.length).toBeLessThan(1024);
    const outputs = await roundTrip('bombs', [
      bombInput('png-bomb', ImageFormat.IMAGE_FORMAT_PNG),
      bombInput('raw-bomb', ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR),
    ]);
    expect(outputs).toEqual([
      [
        'png-bomb',
        ErrorCode.ERROR_CODE_IMAGE_TOO_LARGE,
        'Image Classification Error: decompressed data exceeds 64 MiB',
      ],
      [
        'raw-bomb',
        ErrorCode.ERROR_CODE_IMAGE_TOO_LARGE,
        'Image Classification Error: decompressed data exceeds 64 MiB',
      ],
    ]);
    const single = await classifySingle(client, bombInput('single-bomb', ImageFormat.IMAGE_FORMAT_JPEG));
    expect(single.error?.code).toBe(ErrorCode.ERROR_CODE_IMAGE_TOO_LARGE);
  });

  it('but corrupt Brotli within the limit stays UNSPECIFIED', async () => {
    const small = brotliCompressSync(Buffer.alloc(602_112, 7));
    const outputs = await roundTrip('bombs', [
      {
        ...bombInput('corrupt', ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR),
        data: small.subarray(0, small.length - 4),
      },
    ]);
    expect(outputs.map(([id, code]) => [id, code])).toEqual([['corrupt', ErrorCode.ERROR_CODE_UNSPECIFIED]]);
  });
});
