/** Options shared by every queue function: where Redis is and which BullMQ queue. */
import type { ConnectionOptions as TlsOptions } from 'node:tls';

export interface QueueConnectionOptions {
  /**
   * `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS. The password never
   * appears in a message.
   */
  readonly redis: string;
  /** TLS options (a private CA, say); with `redis://` they turn TLS on. */
  readonly tls?: TlsOptions;
  /** The BullMQ queue the chunks go through. Default `athena-rx`. */
  readonly queue?: string;
}
