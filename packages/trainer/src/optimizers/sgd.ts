import * as tf from '@tensorflow/tfjs-core';
import type { NamedVariable } from '@netaug/core';
import { NamedOptimizer } from './optimizer';

/** SGD settings (the NetAug recipe: momentum 0.9, Nesterov, weight decay 4e-5 not on BN and bias). */
export interface SgdOptions {
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

/**
 * SGD with PyTorch semantics: `g ← grad + wd·w` (only for variables with `weightDecay: true`),
 * `buf ← m·buf + g`, step `d = g + m·buf` (Nesterov) or `d = buf`, then `w ← w − lr·d`.
 * The momentum buffer is the slot `momentum`.
 */
export class Sgd extends NamedOptimizer {
  readonly type = 'sgd';
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;

  constructor(params: NamedVariable<tf.Variable>[], o: SgdOptions = {}) {
    super(params, (o.momentum ?? 0.9) > 0 ? ['momentum'] : []);
    this.momentum = o.momentum ?? 0.9;
    this.nesterov = o.nesterov ?? true;
    this.weightDecay = o.weightDecay ?? 0;
  }

  protected update(
    p: NamedVariable<tf.Variable>,
    grad: tf.Tensor,
    lr: number,
    slots: Map<string, tf.Variable>,
  ): void {
    const w = p.variable;
    let g = grad;
    if (this.weightDecay > 0 && p.weightDecay) g = tf.add(g, tf.mul(w, this.weightDecay));
    let d = g;
    if (this.momentum > 0) {
      const buf = slots.get('momentum')!;
      const nb = tf.add(tf.mul(buf, this.momentum), g);
      buf.assign(nb);
      d = this.nesterov ? tf.add(g, tf.mul(nb, this.momentum)) : nb;
    }
    w.assign(tf.sub(w, tf.mul(d, lr)));
  }
}
