import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@netaug/core';
import { registerTrainingGradients } from '@netaug/backend';

/** A seeded uniform [-1, 1) tensor (same values on every backend). */
export function seededTensor(shape: number[], seed: number): tf.Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.uniform(-1, 1);
  return tf.tensor(data, shape);
}

/** Max |a − b| over two same-shaped tensors. */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/**
 * Registers the gradient definitions training needs (`@netaug/backend`'s own; tfjs-core's Node bundle has
 * none), as `initBackend` does.
 */
export function registerGradients(): void {
  registerTrainingGradients();
}
