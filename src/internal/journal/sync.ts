/**
 * When a journal syncs its file to disk, as a state, a pure `syncStep` and the effects the
 * `journal` operator runs: every appended line reaches the disk within `intervalMs` (one timer,
 * armed by the first line after a sync), and once more when the stream ends.
 */

export interface SyncState {
  /** Lines were appended since the last sync. */
  readonly dirty: boolean;
  /** A sync timer is armed. */
  readonly armed: boolean;
  readonly over: boolean;
}

export type SyncInput = { readonly type: 'appended' } | { readonly type: 'timer' } | { readonly type: 'end' };

export type SyncEffect =
  | { readonly type: 'arm'; readonly delayMs: number }
  | { readonly type: 'disarm' }
  | { readonly type: 'sync' };

export const INITIAL_SYNC_STATE: SyncState = { dirty: false, armed: false, over: false };

/** One transition. After `end` nothing happens any more. */
export function syncStep(
  state: SyncState,
  input: SyncInput,
  intervalMs: number,
): { state: SyncState; effects: SyncEffect[] } {
  if (state.over) return { state, effects: [] };
  switch (input.type) {
    case 'appended':
      return state.armed
        ? { state: { ...state, dirty: true }, effects: [] }
        : { state: { ...state, dirty: true, armed: true }, effects: [{ type: 'arm', delayMs: intervalMs }] };
    case 'timer':
      return {
        state: { ...state, dirty: false, armed: false },
        effects: state.dirty ? [{ type: 'sync' }] : [],
      };
    case 'end': {
      const effects: SyncEffect[] = [];
      if (state.armed) effects.push({ type: 'disarm' });
      if (state.dirty) effects.push({ type: 'sync' });
      return { state: { dirty: false, armed: false, over: true }, effects };
    }
  }
}
