import { type AnswerContext } from './answer.js';
import { type Authorizer } from './auth.js';
import { type CounterBoard } from './counters.js';
import { type DeploymentRegistry } from './deployments.js';
import { type AthenaServerEvent } from './events.js';
import { type FaultState } from './faults.js';

/** Ends one open Classify call with a status. */
export type StreamAbort = (status: { code: number; details: string }) => void;

/** Everything the RPC handlers of one service share. */
export interface ServiceContext {
  readonly counters: CounterBoard;
  readonly faults: FaultState;
  readonly registry: DeploymentRegistry;
  readonly answer: AnswerContext;
  /** `undefined` when no auth is configured. */
  readonly authorize: Authorizer | undefined;
  /** Open Classify calls. */
  readonly streams: Set<StreamAbort>;
  /** Resolves after `ms`, or at once when the service is disposed. */
  sleep(ms: number): Promise<void>;
  /** Reports traffic to the `onEvent` listener (a no-op without one). */
  emit(event: AthenaServerEvent): void;
  disposed(): boolean;
}
