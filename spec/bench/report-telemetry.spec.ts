/**
 * The splices of `--only telemetry`: section 9 goes in place of the old one, and its Targets line into
 * the Targets table (replacing an earlier run's), never into section 9's own verdict table.
 */
import { describe, expect, it } from 'vitest';
import { spliceTelemetry, spliceTelemetryTarget } from '../../bench/report-telemetry.js';

const check = {
  target: 'per-stream telemetry costs under 2% (client CPU per image of the whole pipeline)',
  status: 'MET' as const,
  measured: 'new figure',
};
const report = [
  '# Performance',
  '',
  '## Targets',
  '',
  '| target | status | measured |',
  '|---|---|---|',
  '| other | **MET** | 1 |',
  '',
  '## 8. Faults',
  '',
  'faults body',
  '',
  '## 9. Telemetry cost',
  '',
  `| ${check.target} | **NOT MET** | old figure |`,
  '',
].join('\n');

describe('the telemetry splices', () => {
  it('adds the target last in the Targets table, leaving section 9 alone', () => {
    const lines = spliceTelemetryTarget(report, check).split('\n');
    expect(lines.slice(6, 9)).toEqual([
      '| other | **MET** | 1 |',
      `| ${check.target} | **MET** | new figure |`,
      '',
    ]);
    expect(lines).toContain(`| ${check.target} | **NOT MET** | old figure |`);
  });

  it('replaces the line of an earlier run in the Targets table', () => {
    const once = spliceTelemetryTarget(report, check);
    const twice = spliceTelemetryTarget(once, { ...check, status: 'NOT MET', measured: 'later' });
    const targets = twice.slice(0, twice.indexOf('## 8.'));
    expect(targets.match(/per-stream telemetry/g)).toHaveLength(1);
    expect(targets).toContain('| **NOT MET** | later |');
  });

  it('puts section 9 in place of the old one, or at the end', () => {
    const spliced = spliceTelemetry(report, '## 9. Telemetry cost\n\nnew body\n');
    expect(spliced).toContain('faults body');
    expect(spliced).toContain('new body');
    expect(spliced).not.toContain('old figure');
    const added = spliceTelemetry('# Performance\n', '## 9. Telemetry cost\n\nbody\n');
    expect(added).toBe('# Performance\n\n## 9. Telemetry cost\n\nbody\n');
  });
});
