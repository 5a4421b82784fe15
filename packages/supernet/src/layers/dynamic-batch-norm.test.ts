import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { DynamicBatchNorm } from './dynamic-batch-norm';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('DynamicBatchNorm', () => {
  it('training mode normalises with batch moments and updates only the active running stats (PyTorch formula)', () => {
    const bn = new DynamicBatchNorm('bn', 4);
    bn.runningMean.variable.assign(tf.tensor1d([0.5, -1, 7, 8]));
    bn.runningVar.variable.assign(tf.tensor1d([2, 3, 9, 9]));
    bn.gamma.variable.assign(tf.tensor1d([1.5, 0.5, 1, 1]));
    bn.beta.variable.assign(tf.tensor1d([0.1, -0.2, 0, 0]));
    // N=2, H=1, W=2, active C=2
    const values = [1, 10, 2, 20, 4, -5, 7, 3];
    const x = tf.tensor4d(values, [2, 1, 2, 2]);
    const y = bn.apply(x, true);

    const ch = (c: number) => values.filter((_, i) => i % 2 === c);
    const n = 4;
    for (let c = 0; c < 2; c++) {
      const v = ch(c);
      const mean = v.reduce((a, b) => a + b) / n;
      const biased = v.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
      const unbiased = (biased * n) / (n - 1);
      const rm0 = [0.5, -1][c];
      const rv0 = [2, 3][c];
      expect(bn.runningMean.variable.dataSync()[c]).toBeCloseTo(0.9 * rm0 + 0.1 * mean, 5);
      expect(bn.runningVar.variable.dataSync()[c]).toBeCloseTo(0.9 * rv0 + 0.1 * unbiased, 5);
      const g = [1.5, 0.5][c];
      const b = [0.1, -0.2][c];
      const got = Array.from(y.dataSync()).filter((_, i) => i % 2 === c);
      got.forEach((yv, i) => expect(yv).toBeCloseTo((g * (v[i] - mean)) / Math.sqrt(biased + 1e-5) + b, 4));
    }
    // inactive channels untouched
    expect(Array.from(bn.runningMean.variable.dataSync()).slice(2)).toEqual([7, 8]);
    expect(Array.from(bn.runningVar.variable.dataSync()).slice(2)).toEqual([9, 9]);
    tf.dispose([x, y]);
    bn.variables().forEach((v) => v.variable.dispose());
  });

  it('eval mode uses the running stats of the active channels and changes nothing', () => {
    const bn = new DynamicBatchNorm('bn', 3);
    bn.runningMean.variable.assign(tf.tensor1d([1, 2, 3]));
    bn.runningVar.variable.assign(tf.tensor1d([4, 9, 16]));
    const x = tf.tensor4d([3, 5, 5, 8], [2, 1, 1, 2]);
    const y = bn.apply(x, false);
    const e = 1e-5;
    const want = [
      (3 - 1) / Math.sqrt(4 + e),
      (5 - 2) / Math.sqrt(9 + e),
      (5 - 1) / Math.sqrt(4 + e),
      (8 - 2) / Math.sqrt(9 + e),
    ];
    Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    expect(Array.from(bn.runningMean.variable.dataSync())).toEqual([1, 2, 3]);
    tf.dispose([x, y]);
    bn.variables().forEach((v) => v.variable.dispose());
  });

  it('names its variables; running stats are not trainable', () => {
    const bn = new DynamicBatchNorm('blocks.1.expand.bn', 8);
    expect(bn.variables().map((v) => [v.name, v.trainable, v.weightDecay])).toEqual([
      ['blocks.1.expand.bn.gamma', true, false],
      ['blocks.1.expand.bn.beta', true, false],
      ['blocks.1.expand.bn.runningMean', false, false],
      ['blocks.1.expand.bn.runningVar', false, false],
    ]);
    bn.variables().forEach((v) => v.variable.dispose());
  });
});
