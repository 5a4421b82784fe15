import * as tf from '@tensorflow/tfjs-core';
import { makeDivisible } from '@netaug/core';
import { applyActivation } from './activation';
import { DynamicConv2d } from './dynamic-conv2d';
import { globalAvgPool } from './global-avg-pool';
import type { WeightInit } from './weight-init';
import type { TfNamedVariable } from './named-variable';
import type { IRSink } from '../ir-sink';

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

  /**
   * Appends the squeeze-excite on `c` channels after `x`: `globalAvgPool(keepDims) → conv2d(bias) → relu →
   * conv2d(bias) → hsigmoid → mul`; returns the `mul` node.
   */
  emitNodes(ir: IRSink, x: string, c: number): string {
    const hidden = seChannels(c);
    let g = ir.push({ op: 'globalAvgPool', name: `${this.name}.pool`, inputs: [x], keepDims: true });
    const conv = { strides: [1, 1] as [number, number], padding: 'same' as const };
    g = ir.push({
      op: 'conv2d',
      name: this.reduce.name,
      inputs: [g],
      ...conv,
      ...this.reduce.export(c, hidden),
    });
    g = ir.push({ op: 'activation', name: `${this.name}.relu`, inputs: [g], activation: 'relu' });
    g = ir.push({
      op: 'conv2d',
      name: this.expand.name,
      inputs: [g],
      ...conv,
      ...this.expand.export(hidden, c),
    });
    g = ir.push({ op: 'activation', name: `${this.name}.gate`, inputs: [g], activation: 'hsigmoid' });
    return ir.push({ op: 'mul', name: `${this.name}.mul`, inputs: [x, g] });
  }
}
