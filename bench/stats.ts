/** Small statistics for the benchmark tables. */

/** The q-quantile (0..1) of `values` by linear interpolation between order statistics. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (pos - lo);
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);
export const p95 = (values: readonly number[]): number => quantile(values, 0.95);

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** Least-squares slope of y over x (units of y per unit of x); NaN with fewer than 2 points. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return Number.NaN;
  const mx = mean(xs.slice(0, n));
  const my = mean(ys.slice(0, n));
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i += 1) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

const BARS = '▁▂▃▄▅▆▇█';

/** A one-line chart of `values` in at most `width` characters (each the mean of its bucket). */
export function sparkline(values: readonly number[], width = 60, min?: number, max?: number): string {
  if (values.length === 0) return '';
  const buckets = Math.min(width, values.length);
  const points: number[] = [];
  for (let i = 0; i < buckets; i += 1) {
    const from = Math.floor((i * values.length) / buckets);
    const to = Math.max(from + 1, Math.floor(((i + 1) * values.length) / buckets));
    points.push(mean(values.slice(from, to)));
  }
  const lo = min ?? Math.min(...points);
  const hi = max ?? Math.max(...points);
  const span = hi - lo || 1;
  return points
    .map(
      (v) => BARS[Math.min(BARS.length - 1, Math.max(0, Math.round(((v - lo) / span) * (BARS.length - 1))))],
    )
    .join('');
}

/** Formats a number with a fixed count of decimals, or `n/a` when it is not finite. */
export function fmt(value: number, decimals = 1): string {
  return Number.isFinite(value) ? value.toFixed(decimals) : 'n/a';
}

/** Milliseconds since an arbitrary origin, high resolution. */
export const now = (): number => performance.now();
