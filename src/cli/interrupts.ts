/**
 * Ctrl-C as the command sees it, whether it runs alone or as the child `cli/relaunch` started: the
 * presses counted from the SIGINTs this process receives and the counts its parent passes on (a
 * terminal's Ctrl-C reaches both), as explicit state and a pure transition; and the child's end
 * when its parent is gone.
 */
import { RELAUNCHED_ENV } from './relaunch.js';

/** SIGINTs received here, and the highest press count the parent passed on. */
export interface InterruptState {
  readonly direct: number;
  readonly forwarded: number;
}

export type InterruptEvent =
  { readonly kind: 'signal' } | { readonly kind: 'forwarded'; readonly count: number };

/**
 * One event applied: the new state, and how many new presses it makes. A press is counted once
 * whether it arrived here, through the parent, or both: the presses are the larger of the two counts.
 */
export function nextInterrupts(
  state: InterruptState,
  event: InterruptEvent,
): { state: InterruptState; presses: number } {
  const next =
    event.kind === 'signal'
      ? { ...state, direct: state.direct + 1 }
      : { ...state, forwarded: Math.max(state.forwarded, event.count) };
  const presses = Math.max(next.direct, next.forwarded) - Math.max(state.direct, state.forwarded);
  return { state: next, presses };
}

/** The channel to the relaunching parent, when this process is that child. */
function parentChannel(): ((message: object) => void) | undefined {
  const send = process.send?.bind(process);
  if (send === undefined || process.env[RELAUNCHED_ENV] === undefined) return undefined;
  return (message) => void send(message, undefined, undefined, () => undefined);
}

/**
 * Calls `onPress` once per Ctrl-C until the returned function is called, with state of its own.
 * As the relaunched child, it also tells the parent to pass presses on as counts meanwhile.
 */
export function listenForInterrupts(onPress: () => void): () => void {
  let state: InterruptState = { direct: 0, forwarded: 0 };
  const apply = (event: InterruptEvent): void => {
    const step = nextInterrupts(state, event);
    state = step.state;
    for (let i = 0; i < step.presses; i++) onPress();
  };
  const onSignal = (): void => apply({ kind: 'signal' });
  const onMessage = (message: unknown): void => {
    const count = (message as { interrupts?: unknown } | null)?.interrupts;
    if (typeof count === 'number' && Number.isSafeInteger(count)) apply({ kind: 'forwarded', count });
  };
  const send = parentChannel();
  process.on('SIGINT', onSignal);
  if (send) {
    process.on('message', onMessage);
    send({ listening: true });
  }
  return () => {
    process.off('SIGINT', onSignal);
    if (send) {
      process.off('message', onMessage);
      send({ listening: false });
    }
  };
}

/**
 * As the relaunched child: ends this process (SIGTERM) when the parent is gone without waiting for
 * it (killed with SIGKILL, say), so no run goes on unseen. The channel keeps nothing alive.
 */
export function followParent(): void {
  if (parentChannel() === undefined) return;
  const end = (): void => void process.kill(process.pid, 'SIGTERM');
  // Gone before this ran: the channel closed already and no 'disconnect' is coming.
  if (!process.connected) return end();
  process.once('disconnect', end);
  process.channel?.unref();
}
