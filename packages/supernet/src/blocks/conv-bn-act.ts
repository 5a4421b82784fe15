import * as tf from '@tensorflow/tfjs-core';
import type { ActivationKind } from '@netaug/core';
import type { IRSink } from '../ir-sink';
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

  /**
   * Appends `conv2d` / `depthwiseConv2d` (`<name>.conv`, SAME padding, weights `[k, k, inC, out]`), `batchNorm`
   * (`<name>.bn`) and `activation` (`<name>.act`) nodes after `x`; returns the last one.
   */
  emitNodes(ir: IRSink, x: string, inC: number, out: number): string {
    const conv = this.conv;
    const stride = conv.options.stride;
    const common = {
      name: conv.name,
      inputs: [x],
      strides: [stride, stride] as [number, number],
      padding: 'same' as const,
    };
    let y =
      conv instanceof DynamicConv2d
        ? ir.push({ op: 'conv2d', ...common, ...conv.export(inC, out) })
        : ir.push({ op: 'depthwiseConv2d', ...common, ...conv.export(inC) });
    const c = conv instanceof DynamicConv2d ? out : inC;
    if (this.bn) y = ir.push({ op: 'batchNorm', name: this.bn.name, inputs: [y], ...this.bn.export(c) });
    if (this.act !== 'none')
      y = ir.push({ op: 'activation', name: `${this.name}.act`, inputs: [y], activation: this.act });
    return y;
  }

  /**
   * A 1×1 conv after global pooling (a `[C]` input) as a `dense` node `<name>.conv` (weights `[inC, out]`, the
   * same numbers) and its activation; no batch norm.
   */
  emitDense(ir: IRSink, x: string, inC: number, out: number): string {
    if (!(this.conv instanceof DynamicConv2d) || this.conv.options.kernel !== 1 || this.bn)
      throw new Error(`${this.name}: only a 1×1 conv without batch norm can be written as a dense node`);
    const { weight, bias } = this.conv.export(inC, out);
    let y = ir.push({
      op: 'dense',
      name: this.conv.name,
      inputs: [x],
      weight: { shape: [inC, out], data: weight.data },
      bias,
    });
    if (this.act !== 'none')
      y = ir.push({ op: 'activation', name: `${this.name}.act`, inputs: [y], activation: this.act });
    return y;
  }
}
