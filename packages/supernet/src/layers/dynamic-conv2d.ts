import * as tf from '@tensorflow/tfjs-core';
import type { IRTensor } from '@netaug/core';
import { kaimingUniform, type WeightInit } from './weight-init';
import { filled, makeVariable, type TfNamedVariable } from './named-variable';
import { sliceFirst, sliceFirstToIR } from './slice-first';

/** Shape of a {@link DynamicConv2d}. */
export interface DynamicConv2dOptions {
  kernel: number;
  stride: number;
  /** Largest input channel count (the weights are allocated for it). */
  inMax: number;
  /** Largest output channel count. */
  outMax: number;
  /** Adds a bias (initialised to 0); default false. */
  bias?: boolean;
}

/**
 * A 1×1 stride-1 convolution as a matMul of the `[N·H·W, in]` rows with the `[in, out]` weight (identical
 * result; matMul and its gradient are fast on every backend, tfjs-backend-cpu's conv filter gradient is not).
 */
function pointwise(x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
  const [n, h, wd, c] = x.shape;
  const out = w.shape[3];
  const y = tf.matMul(tf.reshape(x, [n * h * wd, c]) as tf.Tensor2D, tf.reshape(w, [c, out]) as tf.Tensor2D);
  return tf.reshape(y, [n, h, wd, out]);
}

/**
 * A k×k convolution (TensorFlow `same` padding) with HWIO weights `[k, k, inMax, outMax]` that runs at any
 * active input/output width by using the first channels: `weight[:, :, :in, :out]`.
 */
export class DynamicConv2d {
  readonly weight: TfNamedVariable;
  readonly bias?: TfNamedVariable;

  constructor(
    readonly name: string,
    readonly options: DynamicConv2dOptions,
    init: WeightInit,
  ) {
    const { kernel: k, inMax, outMax } = options;
    const size = k * k * inMax * outMax;
    this.weight = makeVariable(
      `${name}.weight`,
      [k, k, inMax, outMax],
      kaimingUniform(init, `${name}.weight`, size, k * k * inMax),
    );
    if (options.bias)
      this.bias = makeVariable(`${name}.bias`, [outMax], filled(outMax, 0), { weightDecay: false });
  }

  /** The convolution of `x` (`[N, H, W, in]`, `in ≤ inMax`) to `out` channels. */
  apply(x: tf.Tensor4D, out: number): tf.Tensor4D {
    const k = this.options.kernel;
    const w = sliceFirst(this.weight.variable as tf.Tensor4D, [k, k, x.shape[3], out]);
    let y =
      k === 1 && this.options.stride === 1 ? pointwise(x, w) : tf.conv2d(x, w, this.options.stride, 'same');
    if (this.bias) y = tf.add(y, sliceFirst(this.bias.variable, [out]));
    return y;
  }

  /** Copies of the active weights (`[k, k, in, out]`) and bias for a ModelIR. */
  export(inC: number, out: number): { weight: IRTensor; bias?: IRTensor } {
    const k = this.options.kernel;
    return {
      weight: sliceFirstToIR(this.weight.variable, [k, k, inC, out]),
      bias: this.bias ? sliceFirstToIR(this.bias.variable, [out]) : undefined,
    };
  }

  variables(): TfNamedVariable[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }
}
