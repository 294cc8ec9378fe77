/**
 * Bytes on an `ArrayBuffer` of their own whose `transfer` is a spy, so code that detaches buffers
 * can be checked on any Node, with or without `ArrayBuffer.prototype.transfer`.
 */
import { vi } from 'vitest';

/** `bytes` zeroed bytes filling a fresh buffer, and the spy standing for its `transfer`. */
export function spiedBuffer(bytes: number): { data: Uint8Array; transfer: ReturnType<typeof vi.fn> } {
  const buffer = new ArrayBuffer(bytes);
  const transfer = vi.fn(() => new ArrayBuffer(0));
  Object.defineProperty(buffer, 'transfer', { value: transfer });
  return { data: new Uint8Array(buffer), transfer };
}
