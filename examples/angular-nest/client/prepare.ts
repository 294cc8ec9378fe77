/**
 * Prepares dropped files in the browser, bit-identical to the Node path: read lazily, the original's
 * digests, decode and resize in Web Workers, Brotli, correlation ids. Originals never leave the machine.
 */
import type { ViaInput } from 'athena-rx/browser';
import { compress, correlate } from 'athena-rx/operators';
import { fromFileList, hashImage, resize } from 'athena-rx/browser';
import type { Observable } from 'rxjs';

export function prepareFiles(files: FileList | readonly File[]): Observable<ViaInput> {
  return fromFileList(files).pipe(hashImage(), resize(), compress(), correlate());
}
