/**
 * The statistics of a study report: mean and sample standard deviation, Student's t distribution (CDF and
 * quantile, from the regularised incomplete beta function), the paired t test and its 95% confidence interval.
 * Written here because the few functions needed are short and exactly specified; the tests check them against
 * published table values.
 */

/** Mean and sample (n − 1) standard deviation. */
export function meanStd(xs: number[]): { mean: number; std: number; n: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(n, 1);
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error < 1e-14). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** The regularised incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  const front = Math.exp(lnFront);
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(a, b, x)) / a
    : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom. */
export function tCdf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be > 0, got ${df}`);
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t with `df` degrees of freedom (bisection on the CDF to 1e-12). */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -tQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (tCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (tCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** The paired comparison of two arms over the same seeds: differences treatment − control. */
export interface PairedResult {
  n: number;
  /** Seeds in the order of `diffs`. */
  seeds: number[];
  diffs: number[];
  mean: number;
  /** Sample standard deviation of the differences. */
  std: number;
  /** Standard error of the mean difference. */
  se: number;
  /** 95% confidence interval of the mean difference (t distribution, n − 1 degrees of freedom); null for n < 2. */
  ci95: [number, number] | null;
  /** Paired t statistic and its two-sided p value; null for n < 2 or zero spread. */
  t: number | null;
  p: number | null;
  /** Seeds where the treatment is ahead (difference > 0), behind (< 0). */
  wins: number;
  losses: number;
}

/** Paired t test of `diffs` (one per seed) against 0, with the 95% confidence interval of their mean. */
export function pairedTest(seeds: number[], diffs: number[]): PairedResult {
  const { mean, std, n } = meanStd(diffs);
  const se = n > 1 ? std / Math.sqrt(n) : NaN;
  let ci95: [number, number] | null = null;
  let t: number | null = null;
  let p: number | null = null;
  if (n > 1) {
    const q = tQuantile(0.975, n - 1);
    ci95 = [mean - q * se, mean + q * se];
    if (se > 0) {
      t = mean / se;
      p = 2 * (1 - tCdf(Math.abs(t), n - 1));
    }
  }
  return {
    n,
    seeds,
    diffs,
    mean,
    std,
    se,
    ci95,
    t,
    p,
    wins: diffs.filter((d) => d > 0).length,
    losses: diffs.filter((d) => d < 0).length,
  };
}

/**
 * What a paired result supports, in words, and nothing more: a difference is called a gain or a loss only when
 * its 95% CI excludes 0. `unit` formats a difference (e.g. points).
 */
export function verdict(
  r: PairedResult,
  treatment: string,
  control: string,
  fmt: (x: number) => string,
  higherIsBetter = true,
): string {
  if (r.n < 2 || !r.ci95)
    return `${treatment} − ${control}: ${fmt(r.mean)} from ${r.n} seed; no confidence interval with fewer than 2 seeds, so no claim is made.`;
  const [lo, hi] = r.ci95;
  const ci = `95% CI [${fmt(lo)}, ${fmt(hi)}], n = ${r.n}`;
  if (lo > 0 || hi < 0) {
    const better = lo > 0 === higherIsBetter;
    return `${treatment} is ${better ? 'better' : 'worse'} than ${control}: ${fmt(r.mean)} (${ci}; the interval excludes 0).`;
  }
  return `No difference shown between ${treatment} and ${control}: ${fmt(r.mean)} (${ci}; the interval includes 0).`;
}
