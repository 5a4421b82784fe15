import type * as tf from '@tensorflow/tfjs-core';
import type { ActiveConfig, Rng, Supernet } from '@netaug/core';

/** Options of the classification loss every model of a step is trained with. */
export interface CriterionOptions {
  /** Label smoothing ε (official NetAug: 0.1). */
  labelSmoothing: number;
}

/** What a strategy sees inside the gradient closure of one step. */
export interface StepContext {
  supernet: Supernet<tf.Tensor, tf.Variable>;
  /** NHWC input batch. */
  x: tf.Tensor4D;
  /** Int32 labels `[N]`. */
  labels: tf.Tensor1D;
  /** Logits of the tiny model (the supernet set to `min`) on `x`. */
  tinyLogits: tf.Tensor2D;
  /** Loss of logits against `labels` (with the step's label smoothing). */
  criterion: (logits: tf.Tensor) => tf.Scalar;
  epoch: number;
  /** Batch index within the epoch. */
  step: number;
  /** The trainer's generator for sampling (its state is checkpointed). */
  rng: Rng;
  /** Gradient checkpointing was asked for: pass it to `supernet.forward` (`{ training: true, recompute }`). */
  recompute: boolean;
  /** Strategies record what they did here (e.g. the sampled augmented configs). */
  record: { augConfigs?: ActiveConfig[]; augMode?: string | null };
}

/**
 * A composable piece of the training objective. The tiny model's loss `L(tiny)` is always computed by the step;
 * strategies add loss terms (NetAug's augmented models, distillation) or change the criterion (label smoothing).
 * The step sums every term inside one gradient computation.
 */
export interface Strategy {
  readonly name: string;
  /** Adjusts the criterion (called once per step, before the forward passes). */
  criterion?(options: CriterionOptions): CriterionOptions;
  /** Extra named loss terms, computed inside the gradient closure. Must leave the supernet in any state. */
  lossTerms?(ctx: StepContext): Record<string, tf.Scalar>;
  /** JSON description for config.json. */
  describe?(): Record<string, unknown>;
}
