import * as tf from '@tensorflow/tfjs-core';
import type { ActivationKind } from '@netaug/core';
import { ConvBnAct } from './conv-bn-act';
import type { TfNamedVariable } from '../layers/named-variable';
import type { WeightInit } from '../layers/weight-init';

/**
 * Depthwise-separable block: depthwise k×k + BN + act (`<name>.depthwise`), point-wise 1×1 + BN
 * (`<name>.pointwise`), optional identity shortcut (then the output width is the input width).
 */
export class DSBlock {
  readonly depthwise: ConvBnAct;
  readonly pointwise: ConvBnAct;
  readonly shortcut: boolean;

  constructor(
    readonly name: string,
    options: {
      kernel: number;
      stride: number;
      inMax: number;
      outMax: number;
      act: ActivationKind;
      shortcut: boolean;
    },
    init: WeightInit,
  ) {
    const { kernel, stride, inMax, outMax, act } = options;
    this.shortcut = options.shortcut;
    this.depthwise = new ConvBnAct(
      `${name}.depthwise`,
      { kernel, stride, inMax, outMax: inMax, depthwise: true, act },
      init,
    );
    this.pointwise = new ConvBnAct(
      `${name}.pointwise`,
      { kernel: 1, stride: 1, inMax, outMax, act: 'none' },
      init,
    );
  }

  apply(x: tf.Tensor4D, out: number, training: boolean): tf.Tensor4D {
    const y = this.pointwise.apply(this.depthwise.apply(x, x.shape[3], training), out, training);
    return this.shortcut ? tf.add(y, x) : y;
  }

  variables(): TfNamedVariable[] {
    return [...this.depthwise.variables(), ...this.pointwise.variables()];
  }
}
