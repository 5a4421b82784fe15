import * as tf from '@tensorflow/tfjs-core';
import type { IRTensor } from '@netaug/core';
import { uniform, type WeightInit } from './weight-init';
import { filled, makeVariable, type TfNamedVariable } from './named-variable';
import { sliceFirst, sliceFirstToIR } from './slice-first';

/**
 * The classifier: weights `[inMax, out]` and bias `[out]`; runs on the first `in` input features. The output
 * (the classes) never changes. Init: `U(-1/sqrt(inMax), 1/sqrt(inMax))` (PyTorch's Linear default), bias 0.
 */
export class DynamicLinear {
  readonly weight: TfNamedVariable;
  readonly bias: TfNamedVariable;

  constructor(
    readonly name: string,
    readonly inMax: number,
    readonly out: number,
    init: WeightInit,
  ) {
    this.weight = makeVariable(
      `${name}.weight`,
      [inMax, out],
      uniform(init, `${name}.weight`, inMax * out, 1 / Math.sqrt(inMax)),
    );
    this.bias = makeVariable(`${name}.bias`, [out], filled(out, 0), { weightDecay: false });
  }

  /** Logits `[N, out]` of `x` (`[N, in]`, `in ≤ inMax`). */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    const w = sliceFirst(this.weight.variable as tf.Tensor2D, [x.shape[1], this.out]);
    return tf.add(tf.matMul(x, w), this.bias.variable);
  }

  /** Copies of the active weights `[in, out]` and the bias for a ModelIR `dense` node. */
  export(inC: number): { weight: IRTensor; bias: IRTensor } {
    return {
      weight: sliceFirstToIR(this.weight.variable, [inC, this.out]),
      bias: sliceFirstToIR(this.bias.variable, [this.out]),
    };
  }

  variables(): TfNamedVariable[] {
    return [this.weight, this.bias];
  }
}
