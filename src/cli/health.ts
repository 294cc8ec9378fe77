/**
 * `athena-rx health`: runs `checkHealth` over the command's connection and prints the report, as a
 * few aligned lines or one JSON object. Exit code 0 when healthy, 1 when not.
 */
import { firstValueFrom } from 'rxjs';
import { checkHealth, type HealthCheck, type HealthReport } from '../transport/health.js';
import type { Connection } from './connect.js';

export interface HealthCommandOptions {
  readonly deep: boolean;
  readonly affiliate: string | undefined;
  readonly timeoutMs: number;
  readonly format: 'table' | 'json';
}

/** Checks the service and writes the report to `out`; resolves with the exit code. */
export async function healthCommand(
  connection: Connection,
  options: HealthCommandOptions,
  out: NodeJS.WritableStream,
): Promise<number> {
  const report = await firstValueFrom(
    checkHealth(connection.client, {
      deep: options.deep,
      timeoutMs: options.timeoutMs,
      ...(options.affiliate === undefined ? {} : { affiliate: options.affiliate }),
    }),
  );
  out.write(options.format === 'json' ? `${JSON.stringify(report)}\n` : formatHealthReport(report));
  return report.healthy ? 0 : 1;
}

/** The report as text: a verdict line, then one line per part with its status, latency and reason. */
export function formatHealthReport(report: HealthReport): string {
  const expiry = (at: number | undefined) =>
    at === undefined
      ? ''
      : at === Infinity
        ? 'token does not expire'
        : `token expires ${new Date(at).toISOString()}`;
  const line = (name: string, check: HealthCheck, extra = '') => {
    const latency = check.latencyMs === undefined ? '' : `${check.latencyMs} ms`;
    const why =
      check.status === 'down' ? `${check.code ?? 'UNKNOWN'}: ${check.message ?? ''}` : check.message;
    return `  ${name.padEnd(11)}${check.status.padEnd(8)}${latency.padEnd(9)}${[extra, why].filter(Boolean).join('; ')}`.trimEnd();
  };
  return [
    `${report.address}: ${report.healthy ? 'healthy' : 'unhealthy'} (${report.deep ? 'deep' : 'shallow'} check, ${report.latencyMs} ms)`,
    line('connection', report.connection),
    line('token', report.token, expiry(report.token.expiresAt)),
    line(
      'classify',
      report.classify,
      report.classify.labels === undefined ? '' : `${report.classify.labels} labels`,
    ),
    '',
  ].join('\n');
}
