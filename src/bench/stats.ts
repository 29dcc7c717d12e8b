// Statistics of repeated runs: median, min, max and the relative spread, and the rule that decides
// whether one case is really faster than another. The spread is the interquartile range over the
// median: on a shared machine one run in five is often an outlier (another job took a core), and the
// full range would let that one run decide that nothing differs from anything.
import type { Spread } from './types.js';

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The q-quantile with linear interpolation between order statistics (NumPy's default). */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) throw new RangeError('quantile of no values');
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo);
}

/** null for no values: a case whose every run failed has no figures. */
export function spreadOf(xs: readonly number[]): Spread | null {
  if (xs.length === 0) return null;
  const m = median(xs);
  const iqr = quantile(xs, 0.75) - quantile(xs, 0.25);
  return { median: m, min: Math.min(...xs), max: Math.max(...xs), spread: m > 0 ? iqr / m : 0, n: xs.length };
}

/**
 * Is `faster` really faster than `slower`? Only when the margin between their medians, relative to
 * the slower one, is larger than the spread of either case's own runs: a difference smaller than
 * the run-to-run noise is no difference.
 */
export function significantlyFaster(
  faster: Spread,
  slower: Spread,
): { margin: number; spread: number; significant: boolean } {
  const margin = slower.median > 0 ? (faster.median - slower.median) / slower.median : Infinity;
  const spread = Math.max(faster.spread, slower.spread);
  return { margin, spread, significant: margin > spread };
}
