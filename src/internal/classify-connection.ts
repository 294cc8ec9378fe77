import type { Subscription } from 'rxjs';
import { AthenaError } from '../errors.js';
import type { ClassifyStreamClient } from '../transport/contracts.js';
import { createLink, type Link } from './classify-link.js';
import type { Entry } from './classify-pending.js';
import { createReconnector } from './classify-reconnect.js';
import type { SessionCore, Unit } from './classify-session.js';

/** What the connection needs from the session besides the shared core. */
export interface ConnectionHooks {
  /** The session half-closed: the end of the call is the end of the run. */
  halfClosed(): boolean;
  /** Every pending item fails at stage `transport`, then the run errors. */
  fail(error: AthenaError): void;
  /** The run is over: complete (or report the input's error). */
  end(): void;
}

/**
 * The reconnect loop of a `classify` session: at most one `Classify` call at a time; when it breaks
 * with items pending, the unanswered ones are queued first for the next call, which opens after the
 * policy's backoff. A call that ends with nothing pending is opened again only when there is
 * something to write.
 */
export function createConnection(client: ClassifyStreamClient, core: SessionCore, hooks: ConnectionHooks) {
  const { config, pending, outbox } = core;
  const { scheduler } = config;
  const reconnector = createReconnector(config.reconnect, scheduler, config.random);
  const linkOptions = {
    client,
    deploymentId: config.deploymentId,
    scheduler,
    keepaliveMs: config.keepaliveMs,
  };
  let link: Link | undefined;
  let reconnectTimer: Subscription | undefined;

  function open(): void {
    const current: Link = createLink(linkOptions, {
      response: (response) => {
        if (link !== current) return;
        reconnector.healthy();
        core.answers.response(response);
      },
      end: (error) => {
        if (link === current) broken(error);
      },
      writable: () => {
        if (link === current) core.pump();
      },
      keepalive: () => config.emit({ type: 'keepalive' }),
    });
    link = current;
    current.start();
  }

  function broken(error: AthenaError | undefined): void {
    link = undefined;
    pending.forgetBatches();
    if (hooks.halfClosed()) return hooks.end();
    const unanswered = pending.inState('sent');
    for (const entry of unanswered) {
      entry.timer?.unsubscribe();
      entry.timer = undefined;
      entry.state = 'queued';
    }
    if (pending.size === 0) {
      // Nothing to answer: open again only when there is something to write.
      if (error !== undefined && reconnector.fatal(error)) hooks.fail(error);
      else reconnector.healthy();
      return;
    }
    const cause =
      error ??
      new AthenaError(
        'UNAVAILABLE',
        `The server ended the Classify call with ${pending.size} items unanswered`,
      );
    const plan = reconnector.next(cause);
    if (plan === undefined) return hooks.fail(cause);
    config.emit({ type: 'reconnect', attempt: plan.attempt, delayMs: plan.delayMs, error: cause });
    outbox.unshift(...resendUnits(unanswered));
    reconnectTimer = scheduler.schedule(() => {
      reconnectTimer = undefined;
      core.pump();
    }, plan.delayMs);
  }

  return {
    /** Opens the first call (on subscribe). */
    open,
    /** The call requests can be written to now, opening one when needed and not waiting for a backoff. */
    writable(): Link | undefined {
      if (link === undefined && reconnectTimer === undefined && outbox.length > 0) open();
      return link?.writable === true ? link : undefined;
    },
    /** Half-closes the open call; false when there is none. */
    halfClose(): boolean {
      reconnectTimer?.unsubscribe();
      reconnectTimer = undefined;
      if (link === undefined) return false;
      link.halfClose();
      return true;
    },
    /** Cancels the call and the backoff timer. */
    close(): void {
      reconnectTimer?.unsubscribe();
      link?.close();
      link = undefined;
    },
  };
}

/** Unanswered items to write again after a reconnect, grouped as they were written, in input order. */
function resendUnits(entries: readonly Entry[]): Unit[] {
  const groups = new Map<unknown, Entry[]>();
  for (const entry of [...entries].sort((a, b) => a.seq - b.seq)) {
    const group = groups.get(entry.batch);
    if (group) group.push(entry);
    else groups.set(entry.batch, [entry]);
  }
  return [...groups.values()].map((group) => ({ entries: group, kind: 'resend' as const }));
}
