import * as tf from '@tensorflow/tfjs-core';
import type { ActivationKind } from '@netaug/core';
import { ConvBnAct } from './conv-bn-act';
import { DynamicSqueezeExcite } from '../layers/dynamic-squeeze-excite';
import type { TfNamedVariable } from '../layers/named-variable';
import type { WeightInit } from '../layers/weight-init';

/** Shape of an {@link MBBlock} (largest widths). */
export interface MBBlockOptions {
  kernel: number;
  stride: number;
  inMax: number;
  midMax: number;
  outMax: number;
  act: ActivationKind;
  se: boolean;
  shortcut: boolean;
}

/**
 * Inverted bottleneck MB(k, s, mid): 1×1 expand + BN + act (`<name>.expand`), depthwise k×k + BN + act
 * (`<name>.depthwise`), optional squeeze-excite (`<name>.se`), 1×1 project + BN (`<name>.project`), optional
 * identity shortcut (then the output width is the input width).
 */
export class MBBlock {
  readonly expand: ConvBnAct;
  readonly depthwise: ConvBnAct;
  readonly se?: DynamicSqueezeExcite;
  readonly project: ConvBnAct;
  readonly shortcut: boolean;

  constructor(
    readonly name: string,
    readonly options: MBBlockOptions,
    init: WeightInit,
  ) {
    const { kernel, stride, inMax, midMax, outMax, act } = options;
    this.expand = new ConvBnAct(`${name}.expand`, { kernel: 1, stride: 1, inMax, outMax: midMax, act }, init);
    this.depthwise = new ConvBnAct(
      `${name}.depthwise`,
      { kernel, stride, inMax: midMax, outMax: midMax, depthwise: true, act },
      init,
    );
    if (options.se) this.se = new DynamicSqueezeExcite(`${name}.se`, midMax, init);
    this.project = new ConvBnAct(
      `${name}.project`,
      { kernel: 1, stride: 1, inMax: midMax, outMax, act: 'none' },
      init,
    );
    this.shortcut = options.shortcut;
  }

  /** Runs with `mid` expanded channels and `out` output channels. */
  apply(x: tf.Tensor4D, mid: number, out: number, training: boolean): tf.Tensor4D {
    let h = this.expand.apply(x, mid, training);
    h = this.depthwise.apply(h, mid, training);
    if (this.se) h = this.se.apply(h);
    const y = this.project.apply(h, out, training);
    return this.shortcut ? tf.add(y, x) : y;
  }

  variables(): TfNamedVariable[] {
    return [
      ...this.expand.variables(),
      ...this.depthwise.variables(),
      ...(this.se ? this.se.variables() : []),
      ...this.project.variables(),
    ];
  }
}
