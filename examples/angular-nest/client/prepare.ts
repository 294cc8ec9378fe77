/**
 * Prepares dropped files in the browser, bit-identical to the Node path: read lazily, the original's
 * digests, decode and resize in Web Workers, correlation ids. The 602,112-byte model inputs go to the
 * gateway; the originals never leave the machine. (`compress` is Node-only: the gateway takes raw
 * model inputs as well as Brotli ones.)
 */
import { fromFileList, hashImage, resize, type ViaInput } from 'athena-rx/browser';
import { correlate } from 'athena-rx/operators';
import jpeg from '@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm';
import png from '@jsquash/png/codec/pkg/squoosh_png_bg.wasm';
import webp from '@jsquash/webp/codec/dec/webp_dec.wasm';
import type { Observable } from 'rxjs';

/** One module worker of the preparation pool; its script is `prepare.worker.ts`. */
const worker = (): Worker => new Worker(new URL('./prepare.worker', import.meta.url), { type: 'module' });

export function prepareFiles(files: FileList | readonly File[]): Observable<ViaInput> {
  return fromFileList(files).pipe(hashImage(), resize({ worker, wasm: { jpeg, png, webp } }), correlate());
}
