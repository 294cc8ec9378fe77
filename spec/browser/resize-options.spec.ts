/** The browser `resize`'s arguments are checked when it is called, before any worker exists. */
import { describe, expect, it } from 'vitest';
import { resize } from '../../src/browser/resize.js';
import type { WorkerLike } from '../../src/browser/web.js';

const worker = (): WorkerLike => {
  throw new Error('no worker should start while options are checked');
};

describe('resize (browser) options', () => {
  it('needs a worker factory', () => {
    expect(() => resize(undefined as never)).toThrow(TypeError);
    expect(() => resize({} as never)).toThrow(TypeError);
    expect(() => resize({ worker: 'prepare.worker.js' as never })).toThrow(TypeError);
  });

  it('refuses a size, mode, pixel limit or wasm it cannot use', () => {
    expect(() => resize({ worker, size: 0 })).toThrow(RangeError);
    expect(() => resize({ worker, size: 1.5 })).toThrow(TypeError);
    expect(() => resize({ worker, mode: 'quick' as never })).toThrow(RangeError);
    expect(() => resize({ worker, maxPixels: 0 })).toThrow(RangeError);
    expect(() => resize({ worker, maxPixelsInFlight: 0 })).toThrow(RangeError);
    expect(() => resize({ worker, wasm: { gif: 'gif.wasm' } as never })).toThrow(TypeError);
    expect(() => resize({ worker, wasm: { jpeg: 42 } as never })).toThrow(TypeError);
    expect(typeof resize({ worker, size: 2, mode: 'fast', wasm: { jpeg: '/mozjpeg_dec.wasm' } })).toBe(
      'function',
    );
  });
});
