/** Largest absolute element-wise difference of two equally long arrays (NaN if any element is NaN). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`maxAbsDiff: lengths differ (${a.length} vs ${b.length})`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return NaN;
    if (d > m) m = d;
  }
  return m;
}

/** Index of the largest element (first one on ties). */
export function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

/** Result of comparing a runtime's outputs with expected outputs. */
export interface Comparison {
  /** Largest absolute difference over all outputs. */
  maxAbsDiff: number;
  /** Fraction of examples whose argmax agrees. */
  top1Agreement: number;
}

/** Compares per-example outputs with expected per-example outputs. */
export function compareOutputs(outputs: Float32Array[], expected: ArrayLike<number>[]): Comparison {
  if (outputs.length !== expected.length) {
    throw new RangeError(`compareOutputs: ${outputs.length} outputs vs ${expected.length} expected`);
  }
  let m = 0;
  let agree = 0;
  outputs.forEach((o, i) => {
    m = Math.max(m, maxAbsDiff(o, expected[i]));
    if (argmax(o) === argmax(expected[i])) agree++;
  });
  return { maxAbsDiff: m, top1Agreement: outputs.length ? agree / outputs.length : 1 };
}
