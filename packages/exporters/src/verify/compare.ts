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

/**
 * Compares every output of a multi-output model: `outputs[example][output]` against
 * `expected[example][output]`. `perOutput[k]` compares output `k` over the examples; `overall` has the largest
 * absolute difference over every output and the top-1 agreement of the first output.
 */
export function compareAllOutputs(
  outputs: Float32Array[][],
  expected: ArrayLike<number>[][],
): { overall: Comparison; perOutput: Comparison[] } {
  if (outputs.length !== expected.length) {
    throw new RangeError(`compareAllOutputs: ${outputs.length} examples vs ${expected.length} expected`);
  }
  const n = outputs.length ? outputs[0].length : 0;
  outputs.forEach((o, i) => {
    if (o.length !== n || expected[i].length !== n)
      throw new RangeError(
        `compareAllOutputs: example ${i} has ${o.length} outputs, ${expected[i].length} expected (model: ${n})`,
      );
  });
  const perOutput = Array.from({ length: n }, (_, k) =>
    compareOutputs(
      outputs.map((o) => o[k]),
      expected.map((e) => e[k]),
    ),
  );
  const overall: Comparison = {
    maxAbsDiff: perOutput.reduce((m, c) => (Number.isNaN(c.maxAbsDiff) ? NaN : Math.max(m, c.maxAbsDiff)), 0),
    top1Agreement: perOutput.length ? perOutput[0].top1Agreement : 1,
  };
  return { overall, perOutput };
}
