import * as tf from '@tensorflow/tfjs-core';
import { makeDivisible } from '@netaug/core';
import { applyActivation } from './activation';
import { DynamicConv2d } from './dynamic-conv2d';
import { globalAvgPool } from './global-avg-pool';
import type { WeightInit } from './weight-init';
import type { TfNamedVariable } from './named-variable';

/** MobileNetV3's squeeze-excite width for `channels` input channels: `max(makeDivisible(channels / 4, 8), 16)`. */
export function seChannels(channels: number): number {
  return Math.max(makeDivisible(channels / 4, 8), 16);
}

/**
 * MobileNetV3 squeeze-excite on the first `C` of `channelsMax` channels: global average pool → 1×1 conv to
 * `seChannels(C)` (bias) → relu → 1×1 conv back to `C` (bias) → hsigmoid → scale the input. The SE width follows
 * the active channel count, so the weights are allocated for `seChannels(channelsMax)`.
 */
export class DynamicSqueezeExcite {
  readonly reduce: DynamicConv2d;
  readonly expand: DynamicConv2d;

  constructor(
    readonly name: string,
    readonly channelsMax: number,
    init: WeightInit,
  ) {
    const seMax = seChannels(channelsMax);
    this.reduce = new DynamicConv2d(
      `${name}.reduce`,
      { kernel: 1, stride: 1, inMax: channelsMax, outMax: seMax, bias: true },
      init,
    );
    this.expand = new DynamicConv2d(
      `${name}.expand`,
      { kernel: 1, stride: 1, inMax: seMax, outMax: channelsMax, bias: true },
      init,
    );
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const c = x.shape[3];
    const pooled = globalAvgPool(x);
    const hidden = tf.relu(this.reduce.apply(pooled, seChannels(c)));
    const gate = applyActivation(this.expand.apply(hidden, c), 'hsigmoid');
    return tf.mul(x, gate);
  }

  variables(): TfNamedVariable[] {
    return [...this.reduce.variables(), ...this.expand.variables()];
  }
}
