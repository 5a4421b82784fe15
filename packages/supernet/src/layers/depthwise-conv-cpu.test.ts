import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { depthwiseConv2dSame } from './depthwise-conv-cpu';
import { maxAbsDiff, registerGradients, seededTensor } from '../testing/helpers';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

describe('depthwiseConv2dSame', () => {
  it.each([
    [3, 1, [2, 5, 5, 4]],
    [3, 2, [2, 6, 5, 3]],
    [5, 2, [1, 7, 7, 2]],
    [7, 1, [1, 4, 4, 5]],
  ])('k=%i s=%i matches tf.depthwiseConv2d and its gradients', (k, s, shape) => {
    const x = seededTensor(shape as number[], 1) as tf.Tensor4D;
    const w = seededTensor([k, k, (shape as number[])[3], 1], 2) as tf.Tensor4D;
    const ref = tf.depthwiseConv2d(x, w, s, 'same');
    const got = depthwiseConv2dSame(x, w, s);
    expect(maxAbsDiff(ref, got)).toBeLessThan(1e-6);
    const up = seededTensor(ref.shape, 3);
    const loss = (f: typeof depthwiseConv2dSame) => (a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(f(a as tf.Tensor4D, b as tf.Tensor4D, s), up));
    const [gx, gw] = tf.grads(loss((a, b, st) => tf.depthwiseConv2d(a, b, st, 'same')))([x, w]);
    const [hx, hw] = tf.grads(loss(depthwiseConv2dSame))([x, w]);
    expect(maxAbsDiff(gx, hx)).toBeLessThan(1e-5);
    expect(maxAbsDiff(gw, hw)).toBeLessThan(1e-5);
    tf.dispose([x, w, ref, got, up, gx, gw, hx, hw]);
  });
});
