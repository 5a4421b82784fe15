import * as tf from '@tensorflow/tfjs-core';
import { NetAugError, type ChannelPermutation, type NamedVariable } from '@netaug/core';

/** A tensor as plain data (checkpoints). */
export interface TensorData {
  shape: number[];
  data: Float32Array;
}

/** Everything an optimizer needs to continue exactly: step count and every slot, keyed by variable name. */
export interface OptimizerState {
  type: string;
  iterations: number;
  /** `slots[variableName][slotName]` */
  slots: Record<string, Record<string, TensorData>>;
}

/**
 * Base of the optimizers: update rules written over tf ops, with slots (momentum buffers, Adam moments) held as
 * tf Variables keyed by the supernet's variable names, so that they can be saved, restored and permuted with
 * their channels. Slots are created up front (zeros), so the tensor count does not grow during training.
 */
export abstract class NamedOptimizer {
  abstract readonly type: string;
  iterations = 0;
  protected readonly params = new Map<string, NamedVariable<tf.Variable>>();
  protected readonly slots = new Map<string, Map<string, tf.Variable>>();

  constructor(params: NamedVariable<tf.Variable>[], slotNames: string[]) {
    for (const p of params) {
      if (!p.trainable) continue;
      this.params.set(p.name, p);
      const s = new Map<string, tf.Variable>();
      for (const n of slotNames) {
        const zeros = tf.zerosLike(p.variable);
        s.set(n, tf.variable(zeros, false));
        zeros.dispose();
      }
      this.slots.set(p.name, s);
    }
  }

  /** Applies one update with learning rate `lr`; `grads` keyed by variable name (missing ones are skipped). */
  applyGradients(grads: Map<string, tf.Tensor>, lr: number): void {
    this.iterations++;
    tf.tidy(() => {
      for (const [name, g] of grads) {
        const p = this.params.get(name);
        if (!p) throw new NetAugError('INTERNAL', `Optimizer got a gradient for unknown variable '${name}'`);
        this.update(p, g, lr, this.slots.get(name)!);
      }
    });
  }

  protected abstract update(
    p: NamedVariable<tf.Variable>,
    g: tf.Tensor,
    lr: number,
    slots: Map<string, tf.Variable>,
  ): void;

  /** The slot `slot` (e.g. `momentum`, `m`, `v`) of variable `variable`. */
  getSlot(variable: string, slot: string): tf.Variable | undefined {
    return this.slots.get(variable)?.get(slot);
  }

  /** Reorders every slot of the permuted variables the same way as their weights (see `Supernet.sortChannels`). */
  permuteSlots(perms: ChannelPermutation[]): void {
    for (const { variable, axis, perm } of perms) {
      const s = this.slots.get(variable);
      if (!s) continue; // non-trainable (BN running stats) have no slots
      tf.tidy(() => {
        const idx = tf.tensor1d(perm, 'int32');
        for (const v of s.values()) v.assign(tf.gather(v, idx, axis));
      });
    }
  }

  getState(): OptimizerState {
    const slots: OptimizerState['slots'] = {};
    for (const [name, s] of this.slots) {
      slots[name] = {};
      for (const [k, v] of s)
        slots[name][k] = { shape: [...v.shape], data: new Float32Array(v.dataSync() as Float32Array) };
    }
    return { type: this.type, iterations: this.iterations, slots };
  }

  setState(state: OptimizerState): void {
    if (state.type !== this.type) {
      throw new NetAugError(
        'CHECKPOINT',
        `Checkpoint has optimizer '${state.type}', this run uses '${this.type}'`,
      );
    }
    for (const [name, s] of this.slots) {
      for (const [k, v] of s) {
        const d = state.slots[name]?.[k];
        if (!d || d.shape.join() !== v.shape.join()) {
          throw new NetAugError(
            'CHECKPOINT',
            `Checkpoint lacks optimizer slot '${k}' of '${name}' with shape [${v.shape}]`,
          );
        }
        tf.tidy(() => v.assign(tf.tensor(d.data, d.shape)));
      }
    }
    this.iterations = state.iterations;
  }

  dispose(): void {
    for (const s of this.slots.values()) for (const v of s.values()) v.dispose();
    this.slots.clear();
  }
}
