/** Summary of a list of timings (milliseconds). */
export interface TimingStats {
  median: number;
  mean: number;
  min: number;
  max: number;
  /** 25th and 75th percentiles (linear interpolation). */
  p25: number;
  p75: number;
  n: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 1) return sorted[0];
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Median, mean, min, max and quartiles of a non-empty list. */
export function timingStats(xs: number[]): TimingStats {
  if (xs.length === 0) throw new Error('timingStats of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  return {
    median: quantile(s, 0.5),
    mean: xs.reduce((a, b) => a + b, 0) / xs.length,
    min: s[0],
    max: s[s.length - 1],
    p25: quantile(s, 0.25),
    p75: quantile(s, 0.75),
    n: xs.length,
  };
}

/** Rounds to `digits` decimals (for JSON output). */
export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
