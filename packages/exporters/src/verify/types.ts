import { compareAllOutputs, compareOutputs, type Comparison } from './compare';

/** Options of the verify functions. */
export interface VerifyOptions {
  /**
   * Expected per-example values of the first output (e.g. from `runModelIR`); when given, the result carries a
   * comparison.
   */
  expected?: ArrayLike<number>[];
  /**
   * Expected per-example values of every output, `[example][output]` (e.g. from `runModelIROutputs`, split per
   * example); when given, `comparison` covers every output and `outputComparisons` has one per output.
   */
  expectedAll?: ArrayLike<number>[][];
}

/** Outputs of a runtime for each input, and the comparison with the expected values when given. */
export interface VerifyResult {
  /** The (first) model output for each input. */
  outputs: Float32Array[];
  /** With `expected`: of the first output; with `expectedAll`: the largest difference over every output. */
  comparison?: Comparison;
  /** Every model output for each input (`[example][output]`, in the model's output order). */
  allOutputs: Float32Array[][];
  /** With `expectedAll`: one comparison per output. */
  outputComparisons?: Comparison[];
}

/** Builds a {@link VerifyResult} from every output of every example and the options' expected values. */
export function verifyResult(all: Float32Array[][], options: VerifyOptions): VerifyResult {
  const outputs = all.map((o) => o[0]);
  if (options.expectedAll) {
    const { overall, perOutput } = compareAllOutputs(all, options.expectedAll);
    return { outputs, allOutputs: all, comparison: overall, outputComparisons: perOutput };
  }
  return {
    outputs,
    allOutputs: all,
    comparison: options.expected ? compareOutputs(outputs, options.expected) : undefined,
  };
}
