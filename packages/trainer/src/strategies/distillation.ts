import * as tf from '@tensorflow/tfjs-core';
import { distillationLoss } from '../losses';
import type { Strategy } from './strategy';

/** Options of {@link distillation}. */
export interface DistillationOptions {
  /** Any function from an NHWC batch to teacher logits `[N, K]` (e.g. a larger trained model). */
  teacher: (x: tf.Tensor4D) => tf.Tensor;
  /** Softmax temperature T (default 1). */
  temperature?: number;
  /** Weight of the KD term (default 1). */
  weight?: number;
}

/**
 * Knowledge distillation on the tiny model: adds `weight · T² · KL(softmax(t/T) ‖ softmax(s/T))`.
 * Combines with {@link netaug} (which adds the augmented models' losses).
 */
export function distillation(o: DistillationOptions): Strategy {
  const T = o.temperature ?? 1;
  const weight = o.weight ?? 1;
  return {
    name: 'distillation',
    describe: () => ({ name: 'distillation', temperature: T, weight }),
    lossTerms(ctx) {
      const teacher = tf.tidy(() => o.teacher(ctx.x));
      const kd = distillationLoss(ctx.tinyLogits, teacher, T);
      return { kd: weight === 1 ? kd : (tf.mul(kd, weight) as tf.Scalar) };
    },
  };
}
