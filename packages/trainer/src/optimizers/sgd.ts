import * as tf from '@tensorflow/tfjs-core';
import { SGD_UPDATE, type NamedVariable } from '@netaug/core';
import { NamedOptimizer } from './optimizer';

/** SGD settings (the NetAug recipe: momentum 0.9, Nesterov, weight decay 4e-5 not on BN and bias). */
export interface SgdOptions {
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

/**
 * Name of the optional fused update kernel: inputs `{ w, g, buf }`, attrs `{ lr, momentum, weightDecay,
 * nesterov }` (weightDecay 0 = none), outputs `[w', buf']` computed operation by operation in float32 exactly as
 * {@link Sgd} does with tf ops (so both paths give the same bits). A backend that registers it (the `native`
 * backend of @netaug/backend-native does) runs one kernel per variable instead of eight.
 */
export { SGD_UPDATE };

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
    const wd = this.weightDecay > 0 && p.weightDecay ? this.weightDecay : 0;
    if (this.momentum > 0 && grad.dtype === 'float32' && tf.getKernel(SGD_UPDATE, tf.getBackend()) != null) {
      const buf = slots.get('momentum')!;
      const attrs = { lr, momentum: this.momentum, weightDecay: wd, nesterov: this.nesterov };
      const [nw, nb] = tf.engine().runKernel(SGD_UPDATE, { w, g: grad, buf }, attrs) as tf.Tensor[];
      buf.assign(nb);
      w.assign(nw);
      return;
    }
    let g = grad;
    if (wd > 0) g = tf.add(g, tf.mul(w, wd));
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
