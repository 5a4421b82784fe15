import * as tf from '@tensorflow/tfjs-core';
import type { IRTensor } from '@netaug/core';
import { kaimingUniform, type WeightInit } from './weight-init';
import { makeVariable, type TfNamedVariable } from './named-variable';
import { sliceFirst, sliceFirstToIR } from './slice-first';
import { depthwiseConv2dSame } from './depthwise-conv-cpu';

/** Shape of a {@link DynamicDepthwiseConv2d}. */
export interface DynamicDepthwiseConv2dOptions {
  kernel: number;
  stride: number;
  /** Largest channel count. */
  channelsMax: number;
}

/**
 * A k×k depthwise convolution (channel multiplier 1, TensorFlow `same` padding) with weights
 * `[k, k, channelsMax, 1]`, running on the first `C` channels of its input.
 */
export class DynamicDepthwiseConv2d {
  readonly weight: TfNamedVariable;

  constructor(
    readonly name: string,
    readonly options: DynamicDepthwiseConv2dOptions,
    init: WeightInit,
  ) {
    const { kernel: k, channelsMax: c } = options;
    this.weight = makeVariable(
      `${name}.weight`,
      [k, k, c, 1],
      kaimingUniform(init, `${name}.weight`, k * k * c, k * k),
    );
  }

  /** The depthwise convolution of `x` (`[N, H, W, C]`, `C ≤ channelsMax`). */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    const k = this.options.kernel;
    const w = sliceFirst(this.weight.variable as tf.Tensor4D, [k, k, x.shape[3], 1]);
    return depthwiseConv2dSame(x, w, this.options.stride);
  }

  /** A copy of the active weights `[k, k, C, 1]` for a ModelIR. */
  export(channels: number): { weight: IRTensor } {
    const k = this.options.kernel;
    return { weight: sliceFirstToIR(this.weight.variable, [k, k, channels, 1]) };
  }

  variables(): TfNamedVariable[] {
    return [this.weight];
  }
}
