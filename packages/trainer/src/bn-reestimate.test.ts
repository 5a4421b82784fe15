import * as tf from '@tensorflow/tfjs-core';
import { reestimateBatchNorm } from './bn-reestimate';
import { ArrayLoader } from './testing/array-loader';
import { textureTask } from './testing/synthetic';
import { TinySupernet } from './testing/tiny-supernet';
import { useCpu, values } from './test-utils';

beforeAll(useCpu);

/** Pre-BN activations of bn1 of the tiny model for images `[n, 8, 8, 1]`, as `[n·64, C]` (conv computed by tf.conv2d). */
function preBn1(net: TinySupernet, images: Float32Array, n: number): Float32Array {
  const c = net.base.width;
  return tf.tidy(() => {
    const x = tf.tensor4d(images, [n, 8, 8, 1]);
    const k = tf.slice(net.v('conv1/kernel'), [0, 0, 0, 0], [3, 3, 1, c]) as tf.Tensor4D;
    return values(tf.conv2d(x, k, 1, 'same'));
  });
}

function stats(z: Float32Array, c: number, rows: [number, number]): { mean: number[]; variance: number[] } {
  const mean = new Array(c).fill(0);
  const variance = new Array(c).fill(0);
  const [r0, r1] = rows;
  for (let r = r0; r < r1; r++) for (let j = 0; j < c; j++) mean[j] += z[r * c + j] / (r1 - r0);
  for (let r = r0; r < r1; r++)
    for (let j = 0; j < c; j++) variance[j] += (z[r * c + j] - mean[j]) ** 2 / (r1 - r0);
  return { mean, variance };
}

describe('BN re-estimation', () => {
  const data = textureTask(40, { seed: 5 });

  it.each([0.1, 0.3])(
    'one batch: running stats = exact mean / variance of the active channels over the N images; rest untouched (BN momentum %s)',
    async (bnMomentum) => {
      const net = new TinySupernet({ seed: 2, bnMomentum });
      // disturb the shared statistics as training with many widths would
      tf.tidy(() => {
        net.v('bn1/mean').assign(tf.fill([net.max.width], 3));
        net.v('bn1/variance').assign(tf.fill([net.max.width], 7));
      });
      const loader = new ArrayLoader({ ...data, batchSize: 64, shuffle: false });
      const weights = values(net.v('conv1/kernel'));
      const seen = await reestimateBatchNorm(net, loader, { images: 40 });
      expect(seen).toBe(40);
      const z = preBn1(net, data.images, 40);
      const c = net.base.width;
      const { mean, variance } = stats(z, c, [0, 40 * 64]);
      const m = values(net.v('bn1/mean'));
      const v = values(net.v('bn1/variance'));
      for (let j = 0; j < c; j++) {
        expect(m[j]).toBeCloseTo(mean[j], 4);
        expect(v[j]).toBeCloseTo(variance[j], 4);
      }
      for (let j = c; j < net.max.width; j++) {
        expect(m[j]).toBe(3); // inactive channels keep their statistics
        expect(v[j]).toBe(7);
      }
      expect(values(net.v('conv1/kernel'))).toEqual(weights); // weights untouched
      expect(loader.getState()).toEqual({ epoch: 0, batch: 0, seed: 0 }); // position restored
      net.dispose();
    },
  );

  it('several batches (16, 16, last one cut to 4): exact mean; variance = size-weighted mean of batch variances', async () => {
    const net = new TinySupernet({ seed: 2 });
    const loader = new ArrayLoader({ ...data, batchSize: 16, shuffle: false });
    await reestimateBatchNorm(net, loader, { images: 36 });
    const z = preBn1(net, data.images, 40);
    const c = net.base.width;
    const all = stats(z, c, [0, 36 * 64]);
    const parts = [
      [0, 16, 16],
      [16, 32, 16],
      [32, 36, 4],
    ].map(([a, b, n]) => ({ n, s: stats(z, c, [a * 64, b * 64]) }));
    const m = values(net.v('bn1/mean'));
    const v = values(net.v('bn1/variance'));
    for (let j = 0; j < c; j++) {
      expect(m[j]).toBeCloseTo(all.mean[j], 4);
      const pooled = parts.reduce((acc, p) => acc + (p.n / 36) * p.s.variance[j], 0);
      expect(v[j]).toBeCloseTo(pooled, 4);
    }
    net.dispose();
  });
});
