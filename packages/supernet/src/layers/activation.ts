import * as tf from '@tensorflow/tfjs-core';
import type { ActivationKind } from '@netaug/core';

/**
 * Applies an activation: `relu`, `relu6`, `hswish(x) = x·relu6(x+3)/6`, `hsigmoid(x) = relu6(x+3)/6`, `sigmoid`.
 * `none` returns `x` unchanged.
 */
export function applyActivation<T extends tf.Tensor>(x: T, kind: ActivationKind | 'none'): T {
  switch (kind) {
    case 'none':
      return x;
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'hsigmoid':
      return tf.div(tf.relu6(tf.add(x, 3)), 6);
    case 'hswish':
      return tf.mul(x, tf.div(tf.relu6(tf.add(x, 3)), 6));
    case 'sigmoid':
      return tf.sigmoid(x);
    default:
      throw new Error(`unknown activation ${kind as string}`);
  }
}
