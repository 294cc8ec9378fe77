/**
 * Runs the application's guards once for a new gateway connection, with an execution context whose
 * HTTP and WebSocket views both give the upgrade request, and says how to refuse when one says no.
 */
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { isObservable, lastValueFrom } from 'rxjs';

/** WebSocket close codes of a refused connection (the 4000-4999 range is the application's). */
export const CLOSE_UNAUTHENTICATED = 4401;
export const CLOSE_FORBIDDEN = 4403;

export interface Refusal {
  readonly code: number;
  readonly reason: string;
}

/** Undefined when every guard lets the connection in; otherwise how to close it. */
export async function letIn(
  guards: readonly CanActivate[],
  gateway: abstract new (...args: never[]) => unknown,
  socket: unknown,
  request: unknown,
): Promise<Refusal | undefined> {
  const context = connectionContext(gateway, socket, request);
  for (const guard of guards) {
    try {
      const verdict = guard.canActivate(context);
      const allowed = isObservable(verdict)
        ? await lastValueFrom(verdict, { defaultValue: false })
        : await verdict;
      if (allowed !== true) return { code: CLOSE_FORBIDDEN, reason: 'forbidden' };
    } catch (error) {
      return statusOf(error) === 401
        ? { code: CLOSE_UNAUTHENTICATED, reason: 'unauthenticated' }
        : { code: CLOSE_FORBIDDEN, reason: 'forbidden' };
    }
  }
  return undefined;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { getStatus?: () => unknown } | null)?.getStatus?.();
  return typeof status === 'number' ? status : undefined;
}

function connectionContext(
  gateway: abstract new (...args: never[]) => unknown,
  socket: unknown,
  request: unknown,
): ExecutionContext {
  const args = [socket, request];
  const handler = function handleConnection() {};
  const context = {
    getClass: () => gateway,
    getHandler: () => handler,
    getArgs: () => args,
    getArgByIndex: (index: number) => args[index],
    getType: () => 'ws',
    switchToWs: () => ({ getClient: () => socket, getData: () => request, getPattern: () => 'connection' }),
    switchToHttp: () => ({
      getRequest: () => request,
      getResponse: () => undefined,
      getNext: () => undefined,
    }),
    switchToRpc: () => ({ getContext: () => undefined, getData: () => request }),
  };
  return context as unknown as ExecutionContext;
}
