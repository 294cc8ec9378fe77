import { firstValueFrom } from 'rxjs';
import type { AthenaClient } from '../transport/AthenaClient.js';

/** `athena-rx deployments`: lists the active deployments with their backlog. */
export async function listDeployments(
  client: AthenaClient,
  format: 'table' | 'jsonl',
  out: NodeJS.WritableStream,
): Promise<number> {
  const deployments = await firstValueFrom(client.listDeployments());
  if (format === 'jsonl') {
    for (const d of deployments)
      out.write(`${JSON.stringify({ deploymentId: d.deploymentId, backlog: d.backlog })}\n`);
    return 0;
  }
  const width = Math.max(13, ...deployments.map((d) => d.deploymentId.length));
  out.write(`${'DEPLOYMENT ID'.padEnd(width)}  BACKLOG\n`);
  for (const d of deployments) out.write(`${d.deploymentId.padEnd(width)}  ${d.backlog}\n`);
  if (deployments.length === 0) out.write('(no active deployments)\n');
  return 0;
}
