import {
  status as Status,
  type handleUnaryCall,
  type Metadata,
  type ServerErrorResponse,
  type StatusObject,
} from '@grpc/grpc-js';
import { type Empty } from '../generated/google/protobuf/empty.js';
import {
  ListDeploymentsResponse,
  type ClassificationInput,
  type ClassificationOutput,
} from '../generated/athena/models.js';
import { answerInput } from './answer.js';
import { UNAUTHENTICATED_DETAILS } from './auth.js';
import { type ServiceContext } from './context.js';
import { outputEvent, summariseInput, type AthenaMethod } from './events.js';
import { hostileOutputError, hostileStatus } from './hostile.js';

type Refusal = Partial<StatusObject> & ServerErrorResponse;

/**
 * `ListDeployments`: every deployment with its backlog (in-flight inputs plus queued outputs).
 * The latency fault applies.
 */
export function serveListDeployments(ctx: ServiceContext): handleUnaryCall<Empty, ListDeploymentsResponse> {
  return (call, callback) => {
    ctx.counters.c.listDeploymentsCalls++;
    ctx.emit({ type: 'request', method: 'ListDeployments', inputs: [] });
    void admit(call.metadata, ctx, 'ListDeployments')
      .then(async (refusal) => {
        if (refusal !== undefined) return callback(refusal);
        const delay = ctx.faults.latency();
        if (delay > 0) await ctx.sleep(delay);
        ctx.registry.sweep();
        const deployments = ctx.registry.list().map((d) => ({
          deploymentId: d.deploymentId,
          backlog: Math.min(d.backlog, 2 ** 31 - 1),
        }));
        ctx.emit({ type: 'output', method: 'ListDeployments', deployments: deployments.length });
        callback(null, ListDeploymentsResponse.fromPartial({ deployments }));
      })
      .catch(() => callback(refusal(Status.INTERNAL, 'Internal server error')));
  };
}

/**
 * `ClassifySingle`: one input, no deployment (so no deployment id check and no duplicate
 * counting); errors come back inside the output. Latency and per-input error faults apply; drops and
 * resets do not.
 */
export function serveClassifySingle(
  ctx: ServiceContext,
): handleUnaryCall<ClassificationInput, ClassificationOutput> {
  return (call, callback) => {
    ctx.counters.c.classifySingleCalls++;
    ctx.emit({ type: 'request', method: 'ClassifySingle', inputs: [summariseInput(call.request)] });
    void admit(call.metadata, ctx, 'ClassifySingle')
      .then(async (refusal) => {
        if (refusal !== undefined) return callback(refusal);
        const delay = ctx.faults.latency();
        const injected = hostileOutputError(ctx.faults.current(), call.metadata) ?? ctx.faults.inputError();
        if (delay > 0) await ctx.sleep(delay);
        const output = await answerInput(call.request, ctx.answer, { injected });
        if (output.error !== undefined) ctx.counters.countError(output.error.code);
        ctx.emit(outputEvent('ClassifySingle', output));
        callback(null, output);
      })
      .catch(() => callback(refusal(Status.INTERNAL, 'Internal server error')));
  };
}

async function admit(
  metadata: Metadata,
  ctx: ServiceContext,
  method: AthenaMethod,
): Promise<Refusal | undefined> {
  const refused = await refusalOf(metadata, ctx);
  if (refused !== undefined) ctx.emit({ type: 'status', method, status: refused.code ?? Status.UNKNOWN });
  return refused;
}

async function refusalOf(metadata: Metadata, ctx: ServiceContext): Promise<Refusal | undefined> {
  ctx.counters.c.unaryCalls++;
  if (ctx.faults.unavailable()) {
    return refusal(Status.UNAVAILABLE, 'Service unavailable (injected)');
  }
  const hostile = hostileStatus(ctx.faults.current(), metadata);
  if (hostile !== undefined) return refusal(hostile.code, hostile.details);
  if (ctx.authorize !== undefined && !(await ctx.authorize(metadata))) {
    ctx.counters.c.unauthenticated++;
    return refusal(Status.UNAUTHENTICATED, UNAUTHENTICATED_DETAILS);
  }
  return undefined;
}

function refusal(code: Status, details: string): Refusal {
  return Object.assign(new Error(details), { code, details });
}
