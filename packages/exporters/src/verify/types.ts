import type { Comparison } from './compare';

/** Options of the verify functions. */
export interface VerifyOptions {
  /** Expected per-example outputs (e.g. from `runModelIR`); when given, the result carries a comparison. */
  expected?: ArrayLike<number>[];
}

/** Outputs of a runtime for each input, and the comparison with `expected` when one was given. */
export interface VerifyResult {
  /** The (first) model output for each input. */
  outputs: Float32Array[];
  comparison?: Comparison;
  /** Every model output for each input (`[example][output]`), when the model has more than one. */
  allOutputs?: Float32Array[][];
}
