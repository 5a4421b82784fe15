import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { copyLeadingBlock, padLeadingBlock, sliceFirst } from './slice-first';
import { registerGradients, seededTensor } from '../testing/helpers';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

describe('sliceFirst', () => {
  it('equals tf.slice and its gradient is the zero-padded upstream gradient', () => {
    const w = seededTensor([3, 3, 5, 7], 1);
    for (const sizes of [
      [3, 3, 2, 4],
      [3, 3, 5, 3],
      [3, 3, 2, 7],
      [1, 3, 5, 7],
      [2, 1, 1, 1],
    ]) {
      const ref = tf.slice(w, [0, 0, 0, 0], sizes);
      const got = sliceFirst(w, sizes);
      expect(got.shape).toEqual(sizes);
      expect(Array.from(got.dataSync())).toEqual(Array.from(ref.dataSync()));
      const up = seededTensor(sizes, 2);
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(sliceFirst(x, sizes), up)))(w);
      const gRef = tf.pad(
        up,
        sizes.map((s, i) => [0, w.shape[i] - s] as [number, number]),
      );
      expect(Array.from(g.dataSync())).toEqual(Array.from(gRef.dataSync()));
      tf.dispose([ref, got, up, g, gRef]);
    }
    expect(sliceFirst(w, [3, 3, 5, 7])).toBe(w); // no copy at full size
    w.dispose();
  });

  it('copy and pad are inverse on the block', () => {
    const data = Float32Array.from({ length: 24 }, (_, i) => i);
    const block = copyLeadingBlock(data, [2, 3, 4], [2, 2, 3]);
    expect(Array.from(block)).toEqual([0, 1, 2, 4, 5, 6, 12, 13, 14, 16, 17, 18]);
    const padded = padLeadingBlock(block, [2, 2, 3], [2, 3, 4]);
    expect(Array.from(copyLeadingBlock(padded, [2, 3, 4], [2, 2, 3]))).toEqual(Array.from(block));
    expect(padded.reduce((a, b) => a + b, 0)).toBe(block.reduce((a, b) => a + b, 0));
  });
});
