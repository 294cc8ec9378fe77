/**
 * The gateway's one Classify stream per deployment: every connection's images go into a single
 * `classify` run over the application's client, each under an id of the hub's own, and every outcome
 * goes back to the connection that sent the image, and to no other. A run that ended (its reconnect
 * budget spent) is started again by the next image.
 */
import { Subject, type Subscription } from 'rxjs';
import { AthenaError } from '../../errors.js';
import { HashType, ImageFormat, RequestEncoding } from '../../generated/athena/models.js';
import { imageItem, toFailure, type ImageItem, type Outcome } from '../../model.js';
import { classify, type ClassifyOptions } from '../../operators/classify.js';
import type { ClassifyStreamClient } from '../../transport/contracts.js';
import type { WireImage } from '../../internal/gateway/protocol.js';

export interface GatewayHub {
  /**
   * Classifies one image; `deliver` gets its outcome once, with the browser's id as `ref`. Returns a
   * function that forgets the image: its outcome, when it comes, is then dropped.
   */
  submit(image: WireImage, deliver: (outcome: Outcome) => void): () => void;
  /** Images submitted and not yet answered or forgotten. */
  readonly pending: number;
  /** Cancels the stream; later images fail with `CLOSED`. */
  close(): void;
}

export function createGatewayHub(client: ClassifyStreamClient, options: ClassifyOptions): GatewayHub {
  const routes = new Map<string, (outcome: Outcome) => void>();
  const prefix = `gw${Math.floor(Math.random() * 36 ** 6).toString(36)}`;
  let seq = 0;
  let input: Subject<ImageItem> | undefined;
  let run: Subscription | undefined;
  let closed = false;
  // Checked once, now: a bad option fails the module's setup, not the first image.
  const operator = classify(client, options);

  function start(): Subject<ImageItem> {
    const subject = new Subject<ImageItem>();
    const ended = () => {
      if (input === subject) input = undefined;
    };
    input = subject;
    run = subject.pipe(operator).subscribe({
      next: (outcome) => {
        const id = outcome.correlationId ?? '';
        const deliver = routes.get(id);
        routes.delete(id);
        deliver?.(outcome);
      },
      error: ended,
      complete: ended,
    });
    return subject;
  }

  return {
    submit(image, deliver) {
      const item = imageItem({
        ref: image.id,
        data: image.data,
        format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR,
        encoding:
          image.encoding === 'brotli'
            ? RequestEncoding.REQUEST_ENCODING_BROTLI
            : RequestEncoding.REQUEST_ENCODING_UNCOMPRESSED,
        hashes: [
          { type: HashType.HASH_TYPE_MD5, value: image.md5 },
          { type: HashType.HASH_TYPE_SHA1, value: image.sha1 },
        ],
        correlationId: `${prefix}-${(seq += 1).toString(36)}`,
      });
      if (closed) {
        deliver(toFailure(item, 'transport', new AthenaError('CLOSED', 'the gateway is shutting down')));
        return () => undefined;
      }
      const id = item.correlationId as string;
      routes.set(id, deliver);
      (input ?? start()).next(item);
      return () => routes.delete(id);
    },
    get pending() {
      return routes.size;
    },
    close() {
      closed = true;
      routes.clear();
      run?.unsubscribe();
      input = undefined;
    },
  };
}
