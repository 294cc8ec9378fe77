/** Bytes that start like an image and are nothing more, for tests of judging an input from its first bytes. */
import { HEAD_BYTES } from '../../src/internal/input/limits.js';

/** A JPEG whose frame header declares `width` x `height`, padded with zeros to `size` bytes. */
export function jpegHead(width: number, height: number, size = HEAD_BYTES + 1): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set([
    0xff,
    0xd8,
    0xff,
    0xc0,
    0x00,
    0x11,
    0x08,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    3,
  ]);
  return bytes;
}
