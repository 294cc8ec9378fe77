import { brotliCompressSync, constants as zlibConstants } from 'node:zlib';
import {
  credentials as grpcCredentials,
  Metadata,
  type ChannelCredentials,
  type ClientOptions,
  type ClientDuplexStream,
  type ServiceError,
  type StatusObject,
} from '@grpc/grpc-js';
import sharp from 'sharp';
import { ClassifierServiceClient } from '../../src/generated/athena/athena.js';
import {
  ClassificationInput,
  ClassifyRequest,
  ImageFormat,
  RequestEncoding,
  type ClassificationOutput,
  type ClassifyResponse,
  type ListDeploymentsResponse,
} from '../../src/generated/athena/models.js';

export const SKY_BLUE = { r: 135, g: 206, b: 235 };
export const FOREST_GREEN = { r: 34, g: 139, b: 34 };

/** A client of the generated code, plaintext unless credentials are given. */
export function connect(
  address: string,
  creds: ChannelCredentials = grpcCredentials.createInsecure(),
  options: Partial<ClientOptions> = {},
) {
  return new ClassifierServiceClient(address, creds, {
    'grpc.max_send_message_length': 64 * 1024 * 1024,
    ...options,
  });
}

export function bearer(token: string): Metadata {
  const m = new Metadata();
  m.set('authorization', `Bearer ${token}`);
  return m;
}

/** 448 x 448 raw B,G,R of one colour. */
export function rawBgr(c: { r: number; g: number; b: number }, size = 448): Buffer {
  const out = Buffer.alloc(size * size * 3);
  for (let i = 0; i < out.length; i += 3) {
    out[i] = c.b;
    out[i + 1] = c.g;
    out[i + 2] = c.r;
  }
  return out;
}

export function solidPng(
  c: { r: number; g: number; b: number },
  width = 448,
  height = width,
): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: c } })
    .png()
    .toBuffer();
}

/** A horizontal red ramp with stripes, as PNG. */
export function gradientPng(size = 448): Promise<Buffer> {
  const raw = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 3;
      raw[i] = Math.floor((x / size) * 255);
      raw[i + 1] = (y >> 3) % 2 === 0 ? 200 : 30;
      raw[i + 2] = 90;
    }
  }
  return sharp(raw, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer();
}

export function brotli(data: Buffer): Buffer {
  return brotliCompressSync(data, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4 } });
}

let skyBlueBrotli: Buffer | undefined;

/** A valid input: raw BGR of one colour (Brotli-compressed unless `plain`). */
export function rawInput(
  correlationId: string,
  overrides: Partial<ClassificationInput> = {},
): ClassificationInput {
  return ClassificationInput.fromPartial({
    affiliate: 'acme',
    correlationId,
    encoding: RequestEncoding.REQUEST_ENCODING_BROTLI,
    data: (skyBlueBrotli ??= brotli(rawBgr(SKY_BLUE))),
    format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR,
    ...overrides,
  });
}

export function request(deploymentId: string, inputs: ClassificationInput[]): ClassifyRequest {
  return ClassifyRequest.fromPartial({ deploymentId, inputs });
}

/** A Classify stream that records what it receives and how it ends. */
export interface TestStream {
  readonly call: ClientDuplexStream<ClassifyRequest, ClassifyResponse>;
  readonly responses: ClassifyResponse[];
  readonly outputs: ClassificationOutput[];
  /** Resolves with the final status (OK or an error), never rejects. */
  readonly ended: Promise<StatusObject>;
  send(req: ClassifyRequest): void;
  /** Resolves once `n` outputs arrived in all; rejects on timeout or when the call ends first. */
  waitForOutputs(n: number, timeoutMs?: number): Promise<ClassificationOutput[]>;
}

export function openStream(client: ClassifierServiceClient, metadata = new Metadata()): TestStream {
  const call = client.classify(metadata);
  const responses: ClassifyResponse[] = [];
  const outputs: ClassificationOutput[] = [];
  let endedWith: StatusObject | undefined;
  const ended = new Promise<StatusObject>((resolve) => {
    call.on('error', (e: ServiceError) => {
      endedWith = { code: e.code, details: e.details, metadata: e.metadata };
      resolve(endedWith);
    });
    call.on('status', (s: StatusObject) => {
      if (s.code === 0) {
        endedWith = s;
        resolve(s);
      }
    });
  });
  call.on('data', (r: ClassifyResponse) => {
    responses.push(r);
    outputs.push(...r.outputs);
  });
  return {
    call,
    responses,
    outputs,
    ended,
    send: (req) => void call.write(req),
    waitForOutputs: (n, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const check = (): void => {
          if (outputs.length >= n) return resolve(outputs.slice());
          if (endedWith !== undefined)
            return reject(
              new Error(
                `stream ended (${endedWith.code} ${endedWith.details}) with ${outputs.length}/${n} outputs`,
              ),
            );
          if (Date.now() - started > timeoutMs)
            return reject(new Error(`timed out with ${outputs.length}/${n} outputs`));
          setTimeout(check, 5);
        };
        check();
      }),
  };
}

export function listDeployments(
  client: ClassifierServiceClient,
  metadata = new Metadata(),
): Promise<ListDeploymentsResponse> {
  return new Promise((resolve, reject) =>
    client.listDeployments({}, metadata, (e, r) => (e ? reject(e) : resolve(r))),
  );
}

export function classifySingle(
  client: ClassifierServiceClient,
  input: ClassificationInput,
  metadata = new Metadata(),
): Promise<ClassificationOutput> {
  return new Promise((resolve, reject) =>
    client.classifySingle(input, metadata, { deadline: Date.now() + 5000 }, (e, r) =>
      e ? reject(e) : resolve(r),
    ),
  );
}

/** Rejection of a promise as a ServiceError, or a failure if it resolved. */
export async function refusal(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (e) {
    return e as ServiceError;
  }
  throw new Error('expected the call to fail');
}

export function weightOf(output: ClassificationOutput, label: string): number | undefined {
  return output.classifications.find((c) => c.label === label)?.weight;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns true (or fails after `timeoutMs`). */
export async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await sleep(5);
  }
}
