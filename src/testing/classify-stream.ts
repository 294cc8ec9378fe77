import { status as Status, type ServerDuplexStream, type StatusObject } from '@grpc/grpc-js';
import {
  ClassifyResponse,
  type ClassificationOutput,
  type ClassifyRequest,
} from '../generated/athena/models.js';
import { answerInput } from './answer.js';
import { UNAUTHENTICATED_DETAILS } from './auth.js';
import { type ServiceContext } from './context.js';
import { type Outlet } from './deployments.js';
import { errorCodeName } from './counters.js';
import { outputEvent, summariseInput } from './events.js';
import { hostileOutputError, hostileStatus } from './hostile.js';
import { checkCorrelationId, checkDeploymentId, type InputProblem } from './validation.js';

/** Details of the status a reset stream ends with, as grpc-js reports a peer's RST_STREAM. */
export const RST_STREAM_DETAILS = 'Received RST_STREAM with code 2 (Internal server error)';

type Call = ServerDuplexStream<ClassifyRequest, ClassifyResponse>;
type EndStatus = Pick<StatusObject, 'code' | 'details'>;

/**
 * Serves one Classify call: gates it (UNAVAILABLE fault, token check), joins the deployment named by
 * its first request, answers each request's inputs concurrently (outputs keep the request's order)
 * and hands them to the deployment, which picks a connected stream or queues them.
 *
 * A first request with an invalid deployment id does not join any deployment: each of its inputs
 * (and of later requests with the same id) is answered on this stream with `DEPLOYMENT_ID_INVALID`.
 * A request with a different deployment id ends the call with `INVALID_ARGUMENT`. After the client
 * half-closes, the call ends with OK once its requests are answered.
 */
export function serveClassify(call: Call, ctx: ServiceContext): void {
  const { c } = ctx.counters;
  c.streamsOpened++;
  if (ctx.faults.unavailable()) {
    c.streamsRefused++;
    ctx.emit({ type: 'status', method: 'Classify', status: Status.UNAVAILABLE });
    endWith(call, { code: Status.UNAVAILABLE, details: 'Service unavailable (injected)' });
    return;
  }
  c.streamsActive++;
  let finished = false;
  let halfClosed = false;
  let pending = 0;
  let sent = 0;
  let deploymentId: string | undefined;
  let deploymentProblem: InputProblem | undefined;
  let joined = false;

  const write = (response: ClassifyResponse): void => {
    c.responses++;
    call.write(response);
  };

  const finish = (status?: EndStatus, quiet = false): void => {
    if (finished) return;
    finished = true;
    if (status !== undefined)
      ctx.emit({ type: 'status', method: 'Classify', status: status.code, deploymentId });
    c.streamsActive--;
    ctx.streams.delete(abort);
    if (joined && deploymentId !== undefined) ctx.registry.detach(deploymentId, outlet);
    if (!quiet) endWith(call, status);
  };
  const abort = (status: EndStatus): void => finish(status);
  ctx.streams.add(abort);
  const stalled = (): boolean => {
    const at = ctx.faults.stallAfter();
    return at !== undefined && sent >= at;
  };
  const endIfDone = (): void => {
    if (halfClosed && pending === 0 && !stalled()) finish();
  };

  const outlet: Outlet = {
    send: (outputs) => {
      if (finished) return outputs;
      const resetAt = ctx.faults.resetAfter();
      const limit = Math.min(resetAt ?? Infinity, ctx.faults.stallAfter() ?? Infinity);
      const n = Math.min(outputs.length, Math.max(0, limit - sent));
      if (n > 0) {
        const batch = outputs.slice(0, n);
        sent += n;
        c.outputs += n;
        for (const o of batch) {
          if (o.error !== undefined) ctx.counters.countError(o.error.code);
          ctx.emit(outputEvent('Classify', o, deploymentId));
        }
        write(ClassifyResponse.fromPartial({ outputs: batch }));
      }
      // A stalled stream keeps the rest on the deployment until the stall is lifted.
      if (stalled()) return outputs.slice(n);
      if (resetAt !== undefined && sent >= resetAt) {
        c.resets++;
        finish({ code: Status.INTERNAL, details: RST_STREAM_DETAILS });
      }
      return outputs.slice(n);
    },
    resume: endIfDone,
  };

  const handle = async (request: ClassifyRequest): Promise<void> => {
    if (finished) return;
    if (deploymentId === undefined) {
      deploymentId = request.deploymentId;
      deploymentProblem = checkDeploymentId(deploymentId);
    } else if (request.deploymentId !== deploymentId) {
      c.streamsAborted++;
      finish({
        code: Status.INVALID_ARGUMENT,
        details: `deployment_id changed on this stream (first ${JSON.stringify(deploymentId.slice(0, 80))}, now ${JSON.stringify(request.deploymentId.slice(0, 80))})`,
      });
      return;
    }
    const id = deploymentId;
    ctx.emit({
      type: 'request',
      method: 'Classify',
      deploymentId: id,
      inputs: request.inputs.map(summariseInput),
    });
    const valid = deploymentProblem === undefined;
    const created = valid && ctx.registry.touch(id);
    if (valid && !joined) {
      joined = true;
      ctx.registry.attach(id, outlet);
    }
    const inputs = request.inputs;
    if (inputs.length === 0) {
      c.keepalives++;
      return;
    }
    c.requests++;
    c.inputs += inputs.length;
    for (const input of inputs) c.inputBytes += input.data.length;
    const hostile = hostileStatus(ctx.faults.current(), call.metadata);
    if (hostile !== undefined) {
      finish(hostile);
      return;
    }
    if (valid) {
      const ids = inputs.map((i) => i.correlationId).filter((cid) => checkCorrelationId(cid) === undefined);
      c.duplicateCorrelationIds += ctx.registry.remember(id, ids);
    }
    const globalError = ctx.faults.globalError(request);
    if (globalError !== undefined) {
      c.globalErrors++;
      ctx.emit({
        type: 'output',
        method: 'Classify',
        deploymentId: id,
        globalError: true,
        code: errorCodeName(globalError.code),
      });
      if (!finished && !stalled())
        write(ClassifyResponse.fromPartial({ globalError: { details: '', ...globalError } }));
      return;
    }
    // Draw every random decision now, in arrival order, so a seeded run repeats exactly.
    const delay = ctx.faults.latency() + (created ? (ctx.faults.current().newDeploymentLatencyMs ?? 0) : 0);
    const leak = hostileOutputError(ctx.faults.current(), call.metadata);
    const plans = inputs.map(() => ({ deploymentProblem, injected: leak ?? ctx.faults.inputError() }));
    const drops = inputs.map(() => ctx.faults.drop());
    if (valid) ctx.registry.work(id, inputs.length);
    let outputs: ClassificationOutput[];
    try {
      if (delay > 0) await ctx.sleep(delay);
      outputs = await Promise.all(inputs.map((input, i) => answerInput(input, ctx.answer, plans[i])));
    } finally {
      if (valid) ctx.registry.work(id, -inputs.length);
    }
    if (ctx.disposed()) return;
    const kept = outputs.filter((_, i) => drops[i] !== true);
    c.dropped += outputs.length - kept.length;
    if (kept.length === 0) return;
    if (valid) ctx.registry.deliver(id, kept);
    else outlet.send(kept);
  };

  const settle = (): void => {
    pending--;
    endIfDone();
  };
  const gate = ctx.authorize === undefined ? Promise.resolve(true) : ctx.authorize(call.metadata);
  void gate.then((ok) => {
    if (ok) return;
    c.unauthenticated++;
    finish({ code: Status.UNAUTHENTICATED, details: UNAUTHENTICATED_DETAILS });
  });
  call.on('data', (request: ClassifyRequest) => {
    pending++;
    void gate
      .then((ok) => (ok ? handle(request) : undefined))
      .catch(() => finish({ code: Status.INTERNAL, details: 'Internal server error' }))
      .finally(settle);
  });
  call.on('end', () => {
    halfClosed = true;
    if (pending === 0) void gate.then(endIfDone);
  });
  call.on('cancelled', () => finish(undefined, true));
  call.on('close', () => finish(undefined, true));
}

function endWith(call: Call, status?: EndStatus): void {
  try {
    if (status === undefined) call.end();
    else call.emit('error', status);
  } catch {
    // The call is already gone.
  }
}
