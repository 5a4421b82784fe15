import * as tf from '@tensorflow/tfjs-core';
import type { NamedVariable } from '@netaug/core';
import { NamedOptimizer } from './optimizer';

/** Adam / AdamW settings. */
export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  weightDecay?: number;
  /** AdamW: decoupled decay `w ← w·(1 − lr·wd)`; otherwise L2 added to the gradient (PyTorch `Adam`). */
  decoupled?: boolean;
}

/**
 * Adam with PyTorch semantics (bias-corrected moments, `w ← w − lr·m̂/(√v̂ + ε)`); with `decoupled` it is AdamW.
 * Weight decay skips variables with `weightDecay: false`. Slots: `m` and `v`.
 */
export class Adam extends NamedOptimizer {
  readonly type: 'adam' | 'adamw';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;

  constructor(params: NamedVariable<tf.Variable>[], o: AdamOptions = {}) {
    super(params, ['m', 'v']);
    this.type = o.decoupled ? 'adamw' : 'adam';
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.epsilon = o.epsilon ?? 1e-8;
    this.weightDecay = o.weightDecay ?? (o.decoupled ? 0.01 : 0);
  }

  protected update(
    p: NamedVariable<tf.Variable>,
    grad: tf.Tensor,
    lr: number,
    slots: Map<string, tf.Variable>,
  ): void {
    const w = p.variable;
    const decay = this.weightDecay > 0 && p.weightDecay;
    let g = grad;
    let base: tf.Tensor = w;
    if (decay && this.type === 'adam') g = tf.add(g, tf.mul(w, this.weightDecay));
    if (decay && this.type === 'adamw') base = tf.mul(w, 1 - lr * this.weightDecay);
    const m = slots.get('m')!;
    const v = slots.get('v')!;
    const nm = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
    const nv = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
    m.assign(nm);
    v.assign(nv);
    const t = this.iterations;
    const mHat = tf.div(nm, 1 - Math.pow(this.beta1, t));
    const vHat = tf.div(nv, 1 - Math.pow(this.beta2, t));
    w.assign(tf.sub(base, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), this.epsilon)), lr)));
  }
}
