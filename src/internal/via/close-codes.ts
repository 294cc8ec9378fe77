/**
 * What a WebSocket close code means to `classifyVia`: the error code its images fail with when the
 * link is not opened again. The default reconnect policy opens it again after the transient ones
 * (`UNAVAILABLE`, `INTERNAL`), never after a refusal.
 */
import type { AthenaErrorCode } from '../../errors.js';

/** Not a WebSocket code: the factory could not open a socket at all. */
export const NO_SOCKET = -1;

export const CLOSE_CODES: Readonly<
  Record<number, { readonly code: AthenaErrorCode; readonly text: string }>
> = {
  [NO_SOCKET]: { code: 'UNIMPLEMENTED', text: 'no WebSocket could be opened' },
  1000: { code: 'UNAVAILABLE', text: 'closed by the gateway' },
  1001: { code: 'UNAVAILABLE', text: 'the gateway is going away' },
  1006: { code: 'UNAVAILABLE', text: 'connection lost' },
  1008: { code: 'PERMISSION_DENIED', text: 'policy violation' },
  1009: { code: 'INVALID_INPUT', text: 'message too big' },
  1011: { code: 'INTERNAL', text: 'gateway error' },
  1012: { code: 'UNAVAILABLE', text: 'gateway restarting' },
  1013: { code: 'UNAVAILABLE', text: 'try again later' },
  4401: { code: 'UNAUTHENTICATED', text: 'not authenticated' },
  4403: { code: 'PERMISSION_DENIED', text: 'forbidden' },
};
