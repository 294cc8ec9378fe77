/**
 * The worker side of the browser `resize`: `startPrepareWorker` answers the pool's `prepare`
 * requests one at a time with the shared preparation steps (`prepare-core.ts`) around the exact
 * WebAssembly decoders or, in `fast` mode, the browser's own.
 */
import { AthenaError, redactUrls } from '../errors.js';
import { prepareWith } from '../imaging/prepare-core.js';
import { decodeWithBitmap } from './decode-bitmap.js';
import { decodeExact, initDecoders } from './decode-wasm.js';
import type { PrepareRequest, WorkerReply, WorkerRequest } from './protocol.js';
import type { WorkerScopeLike } from './web.js';

/**
 * Makes the current worker prepare images for `resize` from `athena-rx/browser`. Call it once, at
 * the top of a module worker file of the app, and give `resize` a factory of that worker:
 *
 * @example
 * ```ts ignore
 * // prepare.worker.ts
 * import { startPrepareWorker } from 'athena-rx/browser';
 * startPrepareWorker();
 *
 * // in the page
 * resize({ worker: () => new Worker(new URL('./prepare.worker', import.meta.url), { type: 'module' }) });
 * ```
 * @param scope the worker's global scope; default `globalThis` (for tests).
 */
export function startPrepareWorker(scope: WorkerScopeLike = globalThis as unknown as WorkerScopeLike): void {
  if (typeof scope?.postMessage !== 'function' || typeof scope.addEventListener !== 'function') {
    throw new TypeError(
      'startPrepareWorker must run in a worker (a scope with postMessage and addEventListener)',
    );
  }
  let ready: Promise<void> = Promise.resolve();
  // One request at a time, in order: the pool sends a worker its next image only after a reply.
  let queue: Promise<void> = Promise.resolve();
  scope.addEventListener('message', (event) => {
    const message = event.data as WorkerRequest | null;
    if (message?.type === 'init') {
      ready = initDecoders(message.modules ?? {});
    } else if (message?.type === 'prepare') {
      const init = ready;
      queue = queue.then(async () => reply(scope, message.id, await answer(message, init)));
    }
  });
}

/** Posts a reply; one that cannot be posted becomes a `failed` reply, so the pool never waits forever. */
function reply(scope: WorkerScopeLike, id: number, [message, transfer]: [WorkerReply, unknown[]?]): void {
  try {
    scope.postMessage(message, transfer);
  } catch (error) {
    const failed: WorkerReply = {
      type: 'failed',
      id,
      code: 'INTERNAL',
      message: `The reply failed: ${String(error)}`,
    };
    scope.postMessage(failed);
  }
}

async function answer(request: PrepareRequest, ready: Promise<void>): Promise<[WorkerReply, unknown[]?]> {
  const { id, bytes, mode, maxPixels } = request;
  try {
    const options = { mode, maxPixels, failOn: 'error' as const };
    const prepared = await prepareWith(bytes, options, async (data, format) => {
      if (mode === 'fast') return decodeWithBitmap(data, maxPixels);
      await ready.catch((error: unknown) => {
        throw new AthenaError('INTERNAL', `The decoders could not be loaded: ${redactUrls(String(error))}`);
      });
      return decodeExact(data, format, maxPixels);
    });
    const { data, width, height } = prepared;
    return [{ type: 'prepared', id, data, width, height }, [data.buffer]];
  } catch (error) {
    const athena = AthenaError.from(error, 'DECODE_FAILED');
    // Decoder and fetch errors may name URLs (a signed .wasm URL, say): never their query values.
    return [{ type: 'failed', id, code: athena.code, message: redactUrls(athena.message) }];
  }
}
