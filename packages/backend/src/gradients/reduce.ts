import * as tf from '@tensorflow/tfjs-core';
import { gradient, keptShape, normAxes, spreadOver } from './util';

/** Sum over `axis`: every input element gets the `dy` of its output element. */
export const sumGradient = gradient('Sum', { inputs: ['x'] }, (dy, [x], attrs) => ({
  x: () => spreadOver(dy, x.shape, normAxes(attrs.axis, x.rank)),
}));

/** Mean over `axis`: every input element gets `dy / (number of elements averaged)`. */
export const meanGradient = gradient('Mean', { inputs: ['x'] }, (dy, [x], attrs) => ({
  x: () => {
    const axes = normAxes(attrs.axis, x.rank);
    const count = axes.reduce((n, a) => n * x.shape[a], 1);
    return tf.div(spreadOver(dy, x.shape, axes), count);
  },
}));

/** `dy` to the elements equal to the reduced extreme `y` (every tied element gets it, as in tfjs). */
function toExtremes(dy: tf.Tensor, x: tf.Tensor, y: tf.Tensor, axes: number[]): tf.Tensor {
  const kept = keptShape(x.shape, axes);
  const hit = tf.cast(tf.equal(x, tf.reshape(y, kept)), 'float32');
  return tf.mul(tf.reshape(dy, kept), hit);
}

/** Max over `reductionIndices`. */
export const maxGradient = gradient('Max', { inputs: ['x'], outputs: [true] }, (dy, [x, y], attrs) => ({
  x: () => toExtremes(dy, x, y, normAxes(attrs.reductionIndices, x.rank)),
}));

/** Min over `axis`. */
export const minGradient = gradient('Min', { inputs: ['x'], outputs: [true] }, (dy, [x, y], attrs) => ({
  x: () => toExtremes(dy, x, y, normAxes(attrs.axis, x.rank)),
}));
