import * as tf from '@tensorflow/tfjs-core';
import type { NamedVariable } from '@netaug/core';

/** A tfjs variable with NetAug's bookkeeping (name, trainable, weight decay). */
export type TfNamedVariable = NamedVariable<tf.Variable>;

/** Creates a variable from seeded values and its {@link TfNamedVariable} record. */
export function makeVariable(
  name: string,
  shape: number[],
  values: Float32Array,
  opts: { trainable?: boolean; weightDecay?: boolean } = {},
): TfNamedVariable {
  const trainable = opts.trainable ?? true;
  const initial = tf.tensor(values, shape, 'float32');
  const variable = tf.variable(initial, trainable);
  initial.dispose(); // the variable keeps the data alive
  return { name, variable, trainable, weightDecay: opts.weightDecay ?? trainable };
}

/** A Float32Array of `n` copies of `value`. */
export function filled(n: number, value: number): Float32Array {
  return new Float32Array(n).fill(value);
}
