import * as tf from '@tensorflow/tfjs-core';
import type { ActivationKind, AugmentSpace } from '@netaug/core';
import { ConvBnAct } from './blocks/conv-bn-act';
import { activeWidth } from './widths';
import type { IRSink } from './ir-sink';
import { DynamicLinear } from './layers/dynamic-linear';
import { globalAvgPool } from './layers/global-avg-pool';
import type { TfNamedVariable } from './layers/named-variable';
import type { WeightInit } from './layers/weight-init';

/** A hidden layer after the pooling: 1×1 conv with bias (no BN) and an activation, `c` tiny channels. */
export interface HiddenLayerSpec {
  c: number;
  act: ActivationKind | 'none';
}

/**
 * The end of every supernet (generic, not a registered block): global average pooling (`pool`), optional hidden
 * 1×1 layers with bias and no BN (`head.<i>`, one width choice point each; MobileNetV3's last head conv), then the
 * linear classifier (`classifier`), whose input follows the last width and whose output (the classes) never
 * changes. The hidden layers act on a 1×1 map and are written as `dense` nodes.
 */
export class ClassifierHead {
  readonly hidden: ConvBnAct[];
  readonly classifier: DynamicLinear;
  readonly choices: { width: string[]; expand: string[] };
  private readonly tiny: number[];

  /**
   * @param firstIndex index of the first hidden layer's name (`head.<firstIndex>`; the head blocks come before).
   */
  constructor(
    specs: readonly HiddenLayerSpec[],
    firstIndex: number,
    inMax: number,
    numClasses: number,
    space: AugmentSpace,
    init: WeightInit,
  ) {
    const wMax = space.widthMults[space.widthMults.length - 1];
    let cur = inMax;
    this.tiny = specs.map((s) => s.c);
    this.hidden = specs.map((h, i) => {
      const outMax = activeWidth(h.c, wMax);
      const opts = { kernel: 1, stride: 1, inMax: cur, outMax, act: h.act, bn: false };
      cur = outMax;
      return new ConvBnAct(`head.${firstIndex + i}`, opts, init);
    });
    this.classifier = new DynamicLinear('classifier', cur, numClasses, init);
    this.choices = { width: this.hidden.map((h) => h.name), expand: [] };
  }

  /** Active widths of the hidden layers for multipliers `widths` (one each), and the classifier input. */
  plan(inC: number, widths: readonly number[]): { hidden: number[]; classifierIn: number } {
    let cur = inC;
    const hidden = this.tiny.map((c, i) => (cur = activeWidth(c, widths[i])));
    return { hidden, classifierIn: cur };
  }

  /** Logits `[N, classes]` of the NHWC features `h`. */
  forward(h: tf.Tensor4D, hidden: readonly number[], training: boolean): tf.Tensor2D {
    let x = globalAvgPool(h);
    this.hidden.forEach((conv, i) => (x = conv.apply(x, hidden[i], training)));
    const features = tf.reshape(x, [x.shape[0], x.shape[3]]) as tf.Tensor2D;
    return this.classifier.apply(features);
  }

  /** Appends `pool`, the hidden layers and `classifier`; returns the classifier node. */
  emit(ir: IRSink, x: string, inC: number, hidden: readonly number[]): string {
    let y = ir.push({ op: 'globalAvgPool', name: 'pool', inputs: [x], keepDims: false });
    let c = inC;
    this.hidden.forEach((layer, i) => {
      y = layer.emitDense(ir, y, c, hidden[i]);
      c = hidden[i];
    });
    return ir.push({ op: 'dense', name: 'classifier', inputs: [y], ...this.classifier.export(c) });
  }

  variables(): TfNamedVariable[] {
    return [...this.hidden.flatMap((h) => h.variables()), ...this.classifier.variables()];
  }
}
