import * as tf from '@tensorflow/tfjs-core';
import { crossEntropy, distillationLoss, topKCorrect } from './losses';
import { useCpu } from './test-utils';

beforeAll(useCpu);

describe('losses', () => {
  it('cross-entropy with label smoothing 0.1 matches the hand-computed value', () => {
    // logits [2, 0, 0], label 0, K = 3, ε = 0.1: target [0.9 + 0.1/3, 0.1/3, 0.1/3]
    // log Σ exp = ln(e² + 2) = 2.2395447; loss = (0.9333333)(0.2395447) + 2 (0.0333333)(2.2395447) = 0.3728779
    const loss = tf.tidy(
      () => crossEntropy(tf.tensor2d([[2, 0, 0]]), tf.tensor1d([0], 'int32'), 0.1).dataSync()[0],
    );
    expect(loss).toBeCloseTo(0.3728779, 5);
    const plain = tf.tidy(
      () => crossEntropy(tf.tensor2d([[2, 0, 0]]), tf.tensor1d([0], 'int32')).dataSync()[0],
    );
    expect(plain).toBeCloseTo(0.2395447, 5);
  });

  it('KD loss T²·KL(softmax(t/T) ‖ softmax(s/T)) matches the hand-computed value', () => {
    // student [1, 0], teacher [0, 1], T = 2: p_t = [0.3775407, 0.6224593], p_s = [0.6224593, 0.3775407]
    // KL = (0.6224593 − 0.3775407)·0.5 = 0.1224593; × T² = 0.4898372
    const kd = tf.tidy(() => distillationLoss(tf.tensor2d([[1, 0]]), tf.tensor2d([[0, 1]]), 2).dataSync()[0]);
    expect(kd).toBeCloseTo(0.4898372, 5);
    const same = tf.tidy(
      () => distillationLoss(tf.tensor2d([[1, 3]]), tf.tensor2d([[1, 3]]), 4).dataSync()[0],
    );
    expect(same).toBeCloseTo(0, 6);
  });

  it('top-k hits', () => {
    const logits = tf.tensor2d([
      [0.1, 0.5, 0.2, 0.9],
      [0.8, 0.1, 0.05, 0.05],
    ]);
    const y = tf.tensor1d([1, 3], 'int32');
    expect(topKCorrect(logits, y, 1)).toBe(0);
    expect(topKCorrect(logits, y, 2)).toBe(1);
    expect(topKCorrect(logits, y, 5)).toBe(2);
    tf.dispose([logits, y]);
  });
});
