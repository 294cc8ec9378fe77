import { CLI_DEFAULTS } from './memory-runs.js';
import { pairRatio } from './memory-pairs.js';
import { type BenchResults } from './results.js';
import { telemetryTarget } from './report-telemetry.js';
import { fmt } from './stats.js';

export type Status = 'MET' | 'NOT MET' | 'NOT CHECKED' | 'INFO';

export interface TargetCheck {
  readonly target: string;
  readonly status: Status;
  readonly measured: string;
}

/** Peak RSS limit and the number of images it is promised for. */
export const RSS_LIMIT_MB = 300;
export const RSS_TARGET_IMAGES = 20_000;
/** What "flat" means for RSS over the second half of the long run. */
export const FLAT_MB_PER_MIN = 1;
/** The command with every default may lose at most this share of the library defaults' throughput. */
export const CLI_THROUGHPUT_FLOOR = 0.9;

const met = (ok: boolean): Status => (ok ? 'MET' : 'NOT MET');

/** Checks the figures of a run against the targets; every line carries the figure it was judged on. */
export function checkTargets(r: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const row = (variant: string, n: number) =>
    r.prepare?.rows.find((x) => x.variant === variant && x.inFlight === n);

  const exact2 = row('exact', 2);
  checks.push(
    exact2 === undefined
      ? {
          target: 'exact mode, 2 in flight: at most 1.15x the floor',
          status: 'NOT CHECKED',
          measured: 'no preparation figures',
        }
      : {
          target: 'exact mode, 2 in flight: at most 1.15x the floor',
          status: met(exact2.ratioRounds.median <= 1.15),
          measured:
            `${fmt(exact2.ratioRounds.median, 2)}x (median of per-round ratios; pooled ${fmt(exact2.ratioPooled, 2)}x, ` +
            `${fmt(exact2.wallMsPerImage)} vs ${fmt(row('floor', 2)?.wallMsPerImage ?? NaN)} ms/image)`,
        },
  );

  const e2e = r.e2e;
  checks.push(
    e2e === undefined
      ? {
          target: `end to end (Brotli quality ${r.defaultQuality}): at least 0.85 of preparation-only throughput`,
          status: 'NOT CHECKED',
          measured: 'no end-to-end figures',
        }
      : {
          target: `end to end (Brotli quality ${e2e.settings.quality}): at least 0.85 of preparation-only throughput`,
          status: e2e.failed > 0 ? 'NOT MET' : met(e2e.ratio >= 0.85),
          measured:
            `${fmt(e2e.ratio, 2)} (${fmt(e2e.e2eImagesPerSecond)} vs ${fmt(e2e.prepareImagesPerSecond)} images/s` +
            `${e2e.failed > 0 ? `; ${e2e.failed} images failed` : ''})`,
        },
  );

  const runs = r.memory ?? [];
  if (runs.length === 0) {
    checks.push({
      target: `peak RSS under ${RSS_LIMIT_MB} MB for ${RSS_TARGET_IMAGES} images`,
      status: 'NOT CHECKED',
      measured: 'no memory run',
    });
    checks.push({
      target: 'RSS flat over the second half',
      status: 'NOT CHECKED',
      measured: 'no memory run',
    });
  }
  for (const { label, result: m } of runs) {
    const short = m.images < RSS_TARGET_IMAGES;
    const why = short ? ` (only ${m.images} images; the target needs ${RSS_TARGET_IMAGES})` : '';
    checks.push({
      target: `peak RSS under ${RSS_LIMIT_MB} MB for ${RSS_TARGET_IMAGES} images, ${label}`,
      status: short ? 'NOT CHECKED' : met(m.peakRssMb < RSS_LIMIT_MB && m.tally.failed === 0),
      measured: `${fmt(m.peakRssMb)} MB peak over ${m.images} images${m.tally.failed > 0 ? `, ${m.tally.failed} failed` : ''}${why}`,
    });
    checks.push({
      target: `RSS flat over the second half (|slope| <= ${FLAT_MB_PER_MIN} MB/min), ${label}`,
      status: short ? 'NOT CHECKED' : met(Math.abs(m.rssSlopeMbPerMin) <= FLAT_MB_PER_MIN),
      measured: `${fmt(m.rssSlopeMbPerMin, 2)} MB/min (${fmt(m.rssMidMb)} MB at mid-run, ${fmt(m.rssEndMb)} MB at the end)${why}`,
    });
  }

  checks.push(cliDefaults(r));

  checks.push(
    e2e === undefined
      ? {
          target: 'event-loop delay p99 under 50 ms during end to end',
          status: 'NOT CHECKED',
          measured: 'no end-to-end figures',
        }
      : {
          target: 'event-loop delay p99 under 50 ms during end to end',
          status: met(e2e.loop.p99Ms < 50),
          measured: `p99 ${fmt(e2e.loop.p99Ms)} ms (p50 ${fmt(e2e.loop.p50Ms)} ms, max ${fmt(e2e.loop.maxMs)} ms)`,
        },
  );

  const fast = row('fast', 2);
  const fast1 = row('fast', 1);
  const exact1 = row('exact', 1);
  if (
    fast !== undefined &&
    exact2 !== undefined &&
    fast1 !== undefined &&
    exact1 !== undefined &&
    r.prepare
  ) {
    const d = r.prepare.drift;
    checks.push({
      target: 'fast mode: speed-up over exact, and pixel drift from exact',
      status: 'INFO',
      measured:
        `${fmt(exact1.wallMsPerImage / fast1.wallMsPerImage, 2)}x faster at 1 in flight, ${fmt(exact2.wallMsPerImage / fast.wallMsPerImage, 2)}x at 2; ` +
        `drift max ${d.maxAbs}, mean ${fmt(d.meanAbs, 3)} grey levels over the corpus (${d.differing} of ${d.images} images differ)`,
    });
  } else {
    checks.push({
      target: 'fast mode: speed-up over exact, and pixel drift from exact',
      status: 'NOT CHECKED',
      measured: 'no preparation figures',
    });
  }
  checks.push(telemetryTarget(r.telemetry));
  return checks;
}

/**
 * The issue's target for the command: a default `athena-rx classify` of 20,000 images under the
 * RSS limit, at no less than {@link CLI_THROUGHPUT_FLOOR} of the throughput the command had with
 * its former defaults (the same run with those defaults set back).
 */
function cliDefaults(r: BenchResults): TargetCheck {
  const target =
    `default \`athena-rx classify\`: peak RSS under ${RSS_LIMIT_MB} MB for ${RSS_TARGET_IMAGES} images, ` +
    `at least ${CLI_THROUGHPUT_FLOOR} of the throughput of its former defaults`;
  const cli = r.memory?.find((x) => x.label === CLI_DEFAULTS)?.result;
  const pairs = r.memoryPairs;
  if (cli === undefined || pairs === undefined || pairs.pairs.length === 0)
    return {
      target,
      status: 'NOT CHECKED',
      measured: 'the run with the defaults or the throughput pairs are missing',
    };
  const ratio = pairRatio(pairs);
  const short = cli.images < RSS_TARGET_IMAGES;
  const ok = cli.peakRssMb < RSS_LIMIT_MB && ratio >= CLI_THROUGHPUT_FLOOR && cli.tally.failed === 0;
  return {
    target,
    status: short ? 'NOT CHECKED' : met(ok),
    measured:
      `${fmt(cli.peakRssMb)} MB peak over ${cli.images} images (${cli.processes ?? 1} processes: the child's RSS ` +
      `and the launcher's private pages; plain RSS sum ${fmt(cli.peakRssSumMb ?? NaN)} MB); throughput ` +
      `${fmt(ratio, 2)}x the former defaults' (median of ${pairs.pairs.length} pairs of ${pairs.images} images)` +
      `${cli.tally.failed > 0 ? `; ${cli.tally.failed} failed` : ''}` +
      (short ? ` (only ${cli.images} images; the target needs ${RSS_TARGET_IMAGES})` : ''),
  };
}
