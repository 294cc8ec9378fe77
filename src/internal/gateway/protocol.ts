/**
 * The gateway's wire protocol, version 1, shared by the Nest gateway and the browser's `classifyVia`:
 * message shapes, their encoding and the checks on everything decoded. Node-free (TextEncoder,
 * DataView, JSON): it bundles for browsers as it is.
 *
 * Browser to gateway, one binary frame per image:
 *   byte 0: protocol version (1); bytes 1-4: header length N (uint32, big-endian);
 *   bytes 5..5+N: the header, UTF-8 JSON `{ "type": "image", "id", "encoding", "md5", "sha1" }`;
 *   the rest: the prepared image (448 x 448 B,G,R bytes, or their Brotli form).
 * Gateway to browser, JSON text frames with `v: 1`: `hello` (after the connection was let in, with
 * the connection's limits), `outcome` (one per image, by the browser's id), `rejected` (a frame
 * with no usable id).
 */

export const GATEWAY_PROTOCOL_VERSION = 1;
/** The bytes of one prepared image: 448 x 448 pixels, B,G,R. */
export const PREPARED_BYTES = 448 * 448 * 3;
/** Longest id accepted (the service's correlation id limit). */
export const MAX_WIRE_ID = 63;
/** Longest header accepted, in bytes. */
export const MAX_HEADER_BYTES = 1024;
const ID_PATTERN = /^[A-Za-z0-9._:~-]+$/;
const MD5_PATTERN = /^[0-9a-f]{32}$/;
const SHA1_PATTERN = /^[0-9a-f]{40}$/;
/** Longest message text carried in an outcome or rejection. */
const MAX_TEXT = 1024;

export type WireEncoding = 'raw' | 'brotli';

/** One prepared image with its original's digests, as the browser sends it. */
export interface WireImage {
  readonly id: string;
  readonly encoding: WireEncoding;
  readonly md5: string;
  readonly sha1: string;
  readonly data: Uint8Array;
}

/** The per-connection limits the gateway applies, told to the browser in `hello`. */
export interface WireLimits {
  readonly maxInFlight: number;
  readonly maxImageBytes: number;
  readonly maxBytesInFlight: number;
  readonly ratePerSecond: number;
  readonly burst: number;
}

export interface WireLabel {
  readonly label: string;
  readonly weight: number;
}

export type ServerMessage =
  | { readonly v: 1; readonly type: 'hello'; readonly limits: WireLimits }
  | {
      readonly v: 1;
      readonly type: 'outcome';
      readonly id: string;
      readonly ok: true;
      readonly classifications: readonly WireLabel[];
    }
  | {
      readonly v: 1;
      readonly type: 'outcome';
      readonly id: string;
      readonly ok: false;
      readonly stage: string;
      readonly code: string;
      readonly message: string;
    }
  | { readonly v: 1; readonly type: 'rejected'; readonly code: string; readonly message: string };

/** Why a frame was refused; `id` when the frame named a usable one, so the failure can be answered. */
export interface FrameProblem {
  readonly id: string | undefined;
  readonly code: 'INVALID_INPUT' | 'INVALID_ID' | 'UNIMPLEMENTED';
  readonly message: string;
}

export function isWireId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_WIRE_ID && ID_PATTERN.test(id);
}

/** Encodes one image as a binary frame. */
export function encodeImageFrame(image: WireImage): Uint8Array {
  const { id, encoding, md5, sha1 } = image;
  const header = new TextEncoder().encode(JSON.stringify({ type: 'image', id, encoding, md5, sha1 }));
  const frame = new Uint8Array(5 + header.length + image.data.length);
  frame[0] = GATEWAY_PROTOCOL_VERSION;
  new DataView(frame.buffer).setUint32(1, header.length);
  frame.set(header, 5);
  frame.set(image.data, 5 + header.length);
  return frame;
}

/** Decodes and checks a binary frame (hostile input): shape, id, digests, encoding and size. */
export function decodeImageFrame(
  frame: Uint8Array,
  maxImageBytes: number,
): { readonly image: WireImage } | { readonly problem: FrameProblem } {
  const bad = (message: string, id?: string, code: FrameProblem['code'] = 'INVALID_INPUT') => ({
    problem: { id, code, message },
  });
  if (frame.length < 5) return bad('frame too short for a header');
  if (frame[0] !== GATEWAY_PROTOCOL_VERSION) {
    return bad(`protocol version ${frame[0]} is not supported (1 is)`, undefined, 'UNIMPLEMENTED');
  }
  const headerBytes = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(1);
  if (headerBytes > MAX_HEADER_BYTES || 5 + headerBytes > frame.length)
    return bad('header length is invalid');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(frame.subarray(5, 5 + headerBytes)));
  } catch {
    return bad('header is not UTF-8 JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    return bad('header is not an object');
  const { type, id, encoding, md5, sha1 } = header as Record<string, unknown>;
  if (!isWireId(id))
    return bad(`id must be 1-${MAX_WIRE_ID} characters of A-Z a-z 0-9 . _ : ~ -`, undefined, 'INVALID_ID');
  if (type !== 'image') return bad('message type must be "image"', id);
  if (encoding !== 'raw' && encoding !== 'brotli') return bad('encoding must be "raw" or "brotli"', id);
  if (typeof md5 !== 'string' || !MD5_PATTERN.test(md5))
    return bad('md5 must be 32 lowercase hex digits', id);
  if (typeof sha1 !== 'string' || !SHA1_PATTERN.test(sha1))
    return bad('sha1 must be 40 lowercase hex digits', id);
  const data = frame.subarray(5 + headerBytes);
  if (encoding === 'raw' && data.length !== PREPARED_BYTES) {
    return bad(`a raw prepared image is ${PREPARED_BYTES} bytes, got ${data.length}`, id);
  }
  if (data.length === 0 || data.length > maxImageBytes) {
    return bad(`image bytes must be 1-${maxImageBytes}, got ${data.length}`, id);
  }
  return { image: { id, encoding, md5, sha1, data } };
}

export function encodeServerMessage(message: ServerMessage): string {
  return JSON.stringify(message);
}

/** Decodes a gateway message; undefined for anything that is not a well-formed version 1 message. */
export function decodeServerMessage(text: string): ServerMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Record<string, unknown>;
  if (m['v'] !== GATEWAY_PROTOCOL_VERSION) return undefined;
  if (m['type'] === 'hello') return isLimits(m['limits']) ? (m as unknown as ServerMessage) : undefined;
  if (m['type'] === 'rejected') {
    return isText(m['code']) && isText(m['message']) ? (m as unknown as ServerMessage) : undefined;
  }
  if (m['type'] !== 'outcome' || !isWireId(m['id'])) return undefined;
  if (m['ok'] === true) return isLabels(m['classifications']) ? (m as unknown as ServerMessage) : undefined;
  if (m['ok'] === false && isText(m['stage']) && isText(m['code']) && isText(m['message'])) {
    return m as unknown as ServerMessage;
  }
  return undefined;
}

/** Cuts a message text to the protocol's limit. */
export function wireText(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 1)}…`;
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_TEXT;
}

function isLimits(value: unknown): value is WireLimits {
  if (typeof value !== 'object' || value === null) return false;
  const l = value as Record<string, unknown>;
  return ['maxInFlight', 'maxImageBytes', 'maxBytesInFlight', 'ratePerSecond', 'burst'].every(
    (key) => typeof l[key] === 'number' && (l[key] as number) > 0,
  );
}

function isLabels(value: unknown): value is WireLabel[] {
  return (
    Array.isArray(value) &&
    value.every(
      (entry: unknown) =>
        typeof entry === 'object' &&
        entry !== null &&
        typeof (entry as WireLabel).label === 'string' &&
        typeof (entry as WireLabel).weight === 'number',
    )
  );
}
