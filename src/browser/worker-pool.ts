/**
 * The effect-running shell of the browser worker pool (`pool-state.ts` holds its rules): starts
 * workers and hands them their decoder modules, posts requests, settles each job's promise from
 * its worker's reply, and turns aborts, worker failures and closing into typed errors.
 */
import { AthenaError, redactUrls, type AthenaErrorCode } from '../errors.js';
import { ImageFormat } from '../generated/athena/models.js';
import type { PreparedImage, PrepareMode } from '../imaging/prepare-core.js';
import { initialPool, poolStep, type PoolEffect, type PoolEvent } from './pool-state.js';
import { isReply, type DecoderModules, type PrepareRequest, type WorkerReply } from './protocol.js';
import type { WorkerEvent, WorkerLike } from './web.js';

export interface WorkerPool {
  /** Prepares `bytes` in a worker; rejects with an `AthenaError` (`CANCELLED` when `signal` aborts). */
  prepare(
    bytes: Uint8Array,
    mode: PrepareMode,
    maxPixels: number,
    signal?: AbortSignal,
  ): Promise<PreparedImage>;
  /** Ends every worker; jobs not answered reject with `CANCELLED`. */
  close(): void;
}

interface Job {
  readonly request: PrepareRequest;
  resolve(value: PreparedImage): void;
  reject(error: AthenaError): void;
}

/** A pool of at most `size` workers made by `create`, each given `modules` first. */
export function workerPool(create: () => WorkerLike, size: number, modules: DecoderModules): WorkerPool {
  let state = initialPool(size);
  const workers = new Map<number, WorkerLike>();
  const jobs = new Map<number, Job>();
  let nextJob = 0;

  const run = (event: PoolEvent): void => {
    const [next, effects] = poolStep(state, event);
    state = next;
    for (const effect of effects) apply(effect);
  };

  const settle = (id: number, reply: WorkerReply): void => {
    const job = jobs.get(id);
    if (!job) return; // cancelled while it ran
    jobs.delete(id);
    if (reply.type === 'prepared') {
      const { data, width, height } = reply;
      job.resolve({ data, width, height, format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR });
    } else job.reject(new AthenaError(reply.code as AthenaErrorCode, reply.message));
  };

  // Why each worker that failed did: named in the errors of the jobs it took down.
  const lastError = new Map<number, string>();
  const crash = (id: number, reason: string): void => {
    lastError.set(id, redactUrls(reason));
    run({ type: 'crashed', worker: id });
  };

  const spawn = (id: number): void => {
    let worker: WorkerLike;
    try {
      worker = create();
    } catch (error) {
      // Its job is sent to no one; the crash (once this effect run is over) fails it.
      queueMicrotask(() => crash(id, `it could not be started: ${String(error)}`));
      return;
    }
    workers.set(id, worker);
    worker.addEventListener('message', (event: WorkerEvent) => {
      if (!isReply(event.data)) return;
      settle(event.data.id, event.data);
      run({ type: 'replied', worker: id });
    });
    worker.addEventListener('error', (event) => crash(id, event.message ?? 'an error event'));
    worker.addEventListener('messageerror', () => crash(id, 'a reply that could not be read'));
    worker.postMessage({ type: 'init', modules });
  };

  const apply = (effect: PoolEffect): void => {
    switch (effect.type) {
      case 'spawn':
        return spawn(effect.worker);
      case 'send': {
        const job = jobs.get(effect.job);
        if (job) workers.get(effect.worker)?.postMessage(job.request);
        else queueMicrotask(() => run({ type: 'replied', worker: effect.worker }));
        return;
      }
      case 'fail': {
        const job = jobs.get(effect.job);
        jobs.delete(effect.job);
        const reason = lastError.get(effect.worker) ?? 'no reason given';
        job?.reject(new AthenaError('INTERNAL', `The preparing worker failed: ${reason}`));
        return;
      }
      case 'terminate':
        workers.get(effect.worker)?.terminate();
        workers.delete(effect.worker);
        lastError.delete(effect.worker);
        return;
    }
  };

  return {
    prepare(bytes, mode, maxPixels, signal) {
      return new Promise<PreparedImage>((resolve, reject) => {
        if (state.closed) return reject(new AthenaError('CANCELLED', 'The worker pool is closed'));
        if (signal?.aborted) return reject(new AthenaError('CANCELLED', 'Image preparation was cancelled'));
        const id = nextJob++;
        const onAbort = (): void => {
          if (!jobs.delete(id)) return;
          run({ type: 'cancel', job: id });
          reject(new AthenaError('CANCELLED', 'Image preparation was cancelled'));
        };
        const done = (): void => signal?.removeEventListener('abort', onAbort);
        jobs.set(id, {
          // Posting copies the whole buffer under a view: give it only the image's bytes.
          request: { type: 'prepare', id, bytes: whole(bytes), mode, maxPixels },
          resolve: (value) => (done(), resolve(value)),
          reject: (error) => (done(), reject(error)),
        });
        signal?.addEventListener('abort', onAbort, { once: true });
        run({ type: 'submit', job: id });
      });
    },
    close() {
      run({ type: 'close' });
      for (const [id, job] of [...jobs]) {
        jobs.delete(id);
        job.reject(new AthenaError('CANCELLED', 'The worker pool is closed'));
      }
    },
  };
}

function whole(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}
