import * as tf from '@tensorflow/tfjs-core';
import type { IRTensor } from '@netaug/core';
import { batchNormTrain, isRecomputing, type BatchNormActivation } from '@netaug/backend';
import { applyActivation } from './activation';
import { filled, makeVariable, type TfNamedVariable } from './named-variable';
import { sliceFirst, sliceFirstToIR } from './slice-first';

/** PyTorch's batch-norm defaults, which NetAug trains with. */
export const BN_MOMENTUM = 0.1;
export const BN_EPSILON = 1e-5;

/**
 * Batch normalisation over the first `C` channels of `channelsMax`.
 *
 * - Eval mode normalises with the running statistics `[:C]`.
 * - Training mode normalises with the batch moments of the active channels (biased variance) and updates only
 *   the active slice of the running statistics, PyTorch convention:
 *   `running = (1 − m)·running + m·batch`, m = 0.1, with the unbiased batch variance for `runningVar`.
 */
export class DynamicBatchNorm {
  readonly gamma: TfNamedVariable;
  readonly beta: TfNamedVariable;
  readonly runningMean: TfNamedVariable;
  readonly runningVar: TfNamedVariable;
  readonly momentum = BN_MOMENTUM;
  readonly epsilon = BN_EPSILON;

  constructor(
    readonly name: string,
    readonly channelsMax: number,
  ) {
    const c = channelsMax;
    this.gamma = makeVariable(`${name}.gamma`, [c], filled(c, 1), { weightDecay: false });
    this.beta = makeVariable(`${name}.beta`, [c], filled(c, 0), { weightDecay: false });
    this.runningMean = makeVariable(`${name}.runningMean`, [c], filled(c, 0), { trainable: false });
    this.runningVar = makeVariable(`${name}.runningVar`, [c], filled(c, 1), { trainable: false });
  }

  /**
   * Normalises `x` (`[N, H, W, C]`), then applies `activation` if given (in training mode fused into the batch
   * norm where the backend has the kernel); in training mode also updates the running statistics `[:C]`.
   */
  apply(x: tf.Tensor4D, training: boolean, activation?: BatchNormActivation): tf.Tensor4D {
    const c = x.shape[3];
    const gamma = sliceFirst(this.gamma.variable, [c]) as tf.Tensor1D;
    const beta = sliceFirst(this.beta.variable, [c]) as tf.Tensor1D;
    if (!training) {
      const mean = sliceFirst(this.runningMean.variable, [c]) as tf.Tensor1D;
      const variance = sliceFirst(this.runningVar.variable, [c]) as tf.Tensor1D;
      return applyActivation(
        tf.batchNorm4d(x, mean, variance, beta, gamma, this.epsilon),
        activation ?? 'none',
      );
    }
    return this.applyTraining(x, gamma, beta, activation);
  }

  /**
   * Training-mode normalisation with the fused kernel of `@netaug/backend` (one pass for the moments, one for
   * the output, a hand-written backward; plain tf ops on backends without the kernel).
   */
  private applyTraining(
    x: tf.Tensor4D,
    gamma: tf.Tensor1D,
    beta: tf.Tensor1D,
    activation?: BatchNormActivation,
  ): tf.Tensor4D {
    const [n, h, w] = x.shape;
    const { y, mean, variance } = batchNormTrain(x, gamma, beta, this.epsilon, activation);
    // the backward pass of a recomputed segment runs this again: the statistics were updated the first time
    if (!isRecomputing()) this.updateRunningStats(mean as tf.Tensor1D, variance as tf.Tensor1D, n * h * w);
    return y as tf.Tensor4D;
  }

  private updateRunningStats(mean: tf.Tensor1D, biasedVar: tf.Tensor1D, count: number): void {
    tf.tidy(() => {
      const unbiased: tf.Tensor1D = count > 1 ? tf.mul(biasedVar, count / (count - 1)) : biasedVar;
      this.blend(this.runningMean.variable, mean);
      this.blend(this.runningVar.variable, unbiased);
    });
  }

  /** `v[:C] = (1 − m)·v[:C] + m·batch`, leaving `v[C:]` untouched. */
  private blend(v: tf.Variable, batch: tf.Tensor1D): void {
    const c = batch.shape[0];
    const m = this.momentum;
    const active = tf.add(tf.mul(sliceFirst(v, [c]), 1 - m), tf.mul(batch, m));
    const next =
      c === this.channelsMax ? active : tf.concat([active, tf.slice(v, [c], [this.channelsMax - c])]);
    v.assign(next);
  }

  /** Copies of the active affine parameters and running statistics for a ModelIR `batchNorm` node. */
  export(channels: number): {
    gamma: IRTensor;
    beta: IRTensor;
    mean: IRTensor;
    variance: IRTensor;
    epsilon: number;
  } {
    return {
      gamma: sliceFirstToIR(this.gamma.variable, [channels]),
      beta: sliceFirstToIR(this.beta.variable, [channels]),
      mean: sliceFirstToIR(this.runningMean.variable, [channels]),
      variance: sliceFirstToIR(this.runningVar.variable, [channels]),
      epsilon: this.epsilon,
    };
  }

  variables(): TfNamedVariable[] {
    return [this.gamma, this.beta, this.runningMean, this.runningVar];
  }
}
