import * as tf from '@tensorflow/tfjs-core';
import type { ActivationKind } from '@netaug/core';
import { applyActivation } from '../layers/activation';
import { DynamicBatchNorm } from '../layers/dynamic-batch-norm';
import { DynamicConv2d } from '../layers/dynamic-conv2d';
import { DynamicDepthwiseConv2d } from '../layers/dynamic-depthwise-conv2d';
import type { TfNamedVariable } from '../layers/named-variable';
import type { WeightInit } from '../layers/weight-init';

/** Shape of a {@link ConvBnAct}. */
export interface ConvBnActOptions {
  kernel: number;
  stride: number;
  inMax: number;
  /** Largest output width (= `inMax` for a depthwise conv). */
  outMax: number;
  depthwise?: boolean;
  /** Batch norm after the conv (default true); without it the conv gets a bias. */
  bn?: boolean;
  act: ActivationKind | 'none';
}

/** Conv (regular or depthwise) → optional batch norm → optional activation, named `<name>.conv`, `<name>.bn`. */
export class ConvBnAct {
  readonly conv: DynamicConv2d | DynamicDepthwiseConv2d;
  readonly bn?: DynamicBatchNorm;
  readonly act: ActivationKind | 'none';

  constructor(
    readonly name: string,
    options: ConvBnActOptions,
    init: WeightInit,
  ) {
    const { kernel, stride, inMax, outMax } = options;
    const withBn = options.bn ?? true;
    this.conv = options.depthwise
      ? new DynamicDepthwiseConv2d(`${name}.conv`, { kernel, stride, channelsMax: inMax }, init)
      : new DynamicConv2d(`${name}.conv`, { kernel, stride, inMax, outMax, bias: !withBn }, init);
    if (withBn) this.bn = new DynamicBatchNorm(`${name}.bn`, outMax);
    this.act = options.act;
  }

  get depthwise(): boolean {
    return this.conv instanceof DynamicDepthwiseConv2d;
  }

  /** Runs on `x` with `out` output channels (ignored by a depthwise conv, whose width is its input's). */
  apply(x: tf.Tensor4D, out: number, training: boolean): tf.Tensor4D {
    let y = this.conv instanceof DynamicConv2d ? this.conv.apply(x, out) : this.conv.apply(x);
    if (this.bn && (this.act === 'relu' || this.act === 'relu6')) return this.bn.apply(y, training, this.act);
    if (this.bn) y = this.bn.apply(y, training);
    return applyActivation(y, this.act);
  }

  variables(): TfNamedVariable[] {
    return [...this.conv.variables(), ...(this.bn ? this.bn.variables() : [])];
  }
}
