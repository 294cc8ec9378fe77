import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { barLine, createProgressView, progressLine, progressMode } from '../../src/cli/progress-view.js';
import type { ProgressSnapshot } from '../../src/operators/progress.js';

function snapshot(fields: Partial<ProgressSnapshot>): ProgressSnapshot {
  return {
    status: 'running',
    submitted: 10,
    inFlight: 6,
    completed: 4,
    classified: 3,
    failed: 1,
    failedByStage: {},
    failedByCode: {},
    requestsSent: 0,
    itemsSent: 0,
    bytesSent: 0,
    resent: 0,
    retries: 0,
    reconnects: 0,
    stalls: 0,
    keepalives: 0,
    globalErrors: 0,
    foreign: 0,
    duplicates: 0,
    ratePerSecond: 2,
    elapsedMs: 2000,
    ...fields,
  };
}

describe('progress view', () => {
  it('picks the bar for a terminal, plain lines elsewhere, and obeys --progress / --no-progress', () => {
    expect(progressMode(undefined, true)).toBe('bar');
    expect(progressMode(undefined, false)).toBe('lines');
    expect(progressMode(true, false)).toBe('bar');
    expect(progressMode(false, true)).toBe('none');
  });

  it('shows percentage and ETA only once the total is known', () => {
    const growing = barLine(snapshot({}));
    expect(growing).toBe('classifying 4/10+ (total still growing) | 2.0 images/s | failed 1');
    expect(progressLine(snapshot({}))).toContain('4/10+ (still counting)');
    const known = barLine(snapshot({ total: 50, fraction: 0.08, etaMs: 23_000 }));
    expect(known).toBe('classifying [##------------------]   8% 4/50 | 2.0 images/s | ETA 23s | failed 1');
    expect(barLine(snapshot({ total: 50, fraction: 0.08, etaMs: 125_000 }))).toContain('ETA 2m05s');
    expect(barLine(snapshot({ total: 50, fraction: 0.08 }), 30)).toHaveLength(30);
  });

  it('clears the bar before printed rows, draws it below them with the current figures, and clears it at stop', () => {
    const writes: string[] = [];
    const log: string[] = [];
    const err = { write: (text: string) => writes.push(text) && log.push(`err:${text}`), columns: 200 };
    const snapshots = new Subject<ProgressSnapshot>();
    let current = snapshot({ total: 10, fraction: 0.4 });
    const view = createProgressView(snapshots, err as unknown as NodeJS.WritableStream, 'bar', {
      current: () => current,
    });
    snapshots.next(current);
    current = snapshot({ completed: 5, total: 10, fraction: 0.5 });
    view.print(() => log.push('out:row'));
    view.stop();
    snapshots.next(current);
    expect(log).toEqual([
      // eslint-disable-next-line no-control-regex -- terminal escape sequences are what is checked
      expect.stringMatching(/^err:\r\x1b\[2Kclassifying \[#{8}-{12}\]\s+40% 4\/10/),
      'err:\r\x1b[2K',
      'out:row',
      // eslint-disable-next-line no-control-regex -- terminal escape sequences are what is checked
      expect.stringMatching(/^err:\r\x1b\[2Kclassifying \[#{10}-{10}\]\s+50% 5\/10/),
      'err:\r\x1b[2K',
    ]);
  });
});
