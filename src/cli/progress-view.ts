import cliProgress from 'cli-progress';
import type { Observable } from 'rxjs';
import type { ProgressSnapshot } from '../operators/progress.js';

export interface ProgressView {
  stop(): void;
}

function eta(snapshot: ProgressSnapshot): string {
  if (snapshot.inFlight === 0 || snapshot.ratePerSecond <= 0) return '-';
  const seconds = Math.round(snapshot.inFlight / snapshot.ratePerSecond);
  return seconds >= 60
    ? `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`
    : `${seconds}s`;
}

/** One plain progress line, for logs and pipes. */
export function progressLine(s: ProgressSnapshot): string {
  return (
    `progress: ${s.completed}/${s.submitted} done (${s.classified} classified, ${s.failed} failed), ` +
    `${s.inFlight} in flight, ${s.ratePerSecond.toFixed(1)} images/s` +
    (s.reconnects > 0 ? `, ${s.reconnects} reconnects` : '') +
    (s.stalls > 0 ? `, ${s.stalls} stalled streams reopened` : '')
  );
}

/**
 * Shows progress on `err`: a live bar with rate and ETA when it is a terminal, otherwise a plain line
 * every `plainEveryMs`. The total grows as the sources are read, so the ETA covers what is read so far.
 */
export function createProgressView(
  snapshots$: Observable<ProgressSnapshot>,
  err: NodeJS.WritableStream & { isTTY?: boolean },
  plainEveryMs = 5000,
): ProgressView {
  if (err.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: err,
        format: 'classifying [{bar}] {value}/{total} | {rate} images/s | ETA {eta_text} | failed {failed}',
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    const subscription = snapshots$.subscribe((s) => {
      const payload = { rate: s.ratePerSecond.toFixed(1), eta_text: eta(s), failed: s.failed };
      if (!started) {
        bar.start(Math.max(1, s.submitted), s.completed, payload);
        started = true;
      } else {
        bar.setTotal(Math.max(1, s.submitted));
        bar.update(s.completed, payload);
      }
    });
    return {
      stop: () => {
        subscription.unsubscribe();
        if (started) bar.stop();
      },
    };
  }
  let lastPrinted = 0;
  const subscription = snapshots$.subscribe((s) => {
    if (s.elapsedMs - lastPrinted < plainEveryMs) return;
    lastPrinted = s.elapsedMs;
    err.write(`${progressLine(s)}\n`);
  });
  return { stop: () => subscription.unsubscribe() };
}
