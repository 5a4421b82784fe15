/**
 * batchNormTrain (fused training batch norm): vs float64 finite differences, vs the plain-ops version
 * (values and gradients) on wasm and cpu, and no tensor / backend-buffer leaks forward and backward.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchNormTrain, batchNormTrainOps, BATCH_NORM_TRAIN } from '../src';
import { finiteDiff, randomData, relErr, useBackend } from './helpers';

const EPS = 1e-5;

/** Float64 reference forward: y, mean, biased variance (channels last). */
function bnRef(x: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>, C: number) {
  const rows = x.length / C;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  for (let i = 0; i < x.length; i++) mean[i % C] += x[i] / rows;
  for (let i = 0; i < x.length; i++) variance[i % C] += (x[i] - mean[i % C]) ** 2 / rows;
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = i % C;
    y[i] = ((x[i] - mean[c]) / Math.sqrt(variance[c] + EPS)) * g[c] + b[c];
  }
  return { y, mean, variance };
}

/** Loss used for gradients: Σ y·r + Σ mean·rm + Σ variance·rv (exercises the mean / variance gradients too). */
function lossOf(
  bn: typeof batchNormTrain,
  x: tf.Tensor,
  g: tf.Tensor1D,
  b: tf.Tensor1D,
  r: tf.Tensor,
  rm: tf.Tensor1D,
  rv: tf.Tensor1D,
): tf.Scalar {
  const { y, mean, variance } = bn(x, g, b, EPS);
  return tf.addN([tf.sum(tf.mul(y, r)), tf.sum(tf.mul(mean, rm)), tf.sum(tf.mul(variance, rv))]) as tf.Scalar;
}

function inputs(shape: number[], seed: number) {
  const C = shape[shape.length - 1];
  const n = shape.reduce((a, c) => a * c, 1);
  const x = randomData(n, seed).map((v, i) => v * (1 + (i % C)) + 0.5 * (i % 3)); // per-channel scale / offset
  const g = randomData(C, seed + 1).map((v) => v + 1.5);
  const b = randomData(C, seed + 2);
  return { x, g, b, r: randomData(n, seed + 3), rm: randomData(C, seed + 4), rv: randomData(C, seed + 5), C };
}

describe.each(['wasm', 'cpu'] as const)('batchNormTrain on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it('runs as the fused kernel on this backend', () => {
    tf.tidy(() => {
      batchNormTrain(tf.ones([2, 3]), tf.ones([3]), tf.zeros([3]));
    });
    expect(tf.getKernel(BATCH_NORM_TRAIN, backend)).toBeDefined();
  });

  it.each([
    [[2, 3, 3, 5]],
    [[3, 2, 2, 8]],
    [[4, 1, 1, 3]], // 4 rows only, as in the last stages at batch 4
  ])(
    'matches float64 finite differences (x, gamma, beta; through y, mean and variance), shape %j',
    (shape) => {
      const { x, g, b, r, rm, rv, C } = inputs(shape, 11);
      const fwd = (xx: ArrayLike<number>, gg: ArrayLike<number>, bb: ArrayLike<number>) => {
        const o = bnRef(xx, gg, bb, C);
        return Float64Array.from([...o.y, ...o.mean, ...o.variance]);
      };
      const rAll = Float64Array.from([...r, ...rm, ...rv]);
      const fdX = finiteDiff(x, (v) => fwd(v, g, b), rAll);
      const fdG = finiteDiff(g, (v) => fwd(x, v, b), rAll);
      const fdB = finiteDiff(b, (v) => fwd(x, g, v), rAll);
      const [gx, gg, gb] = tf.tidy(() => {
        const rt = tf.tensor(r, shape);
        const rmt = tf.tensor1d(rm);
        const rvt = tf.tensor1d(rv);
        const grads = tf.grads((xt: tf.Tensor, gt: tf.Tensor, bt: tf.Tensor) =>
          lossOf(batchNormTrain, xt, gt as tf.Tensor1D, bt as tf.Tensor1D, rt, rmt, rvt),
        )([tf.tensor(x, shape), tf.tensor1d(g), tf.tensor1d(b)]);
        return grads.map((t) => t.dataSync());
      });
      expect(relErr(gx, fdX)).toBeLessThan(1e-4);
      expect(relErr(gg, fdG)).toBeLessThan(1e-4);
      expect(relErr(gb, fdB)).toBeLessThan(1e-4);
      // forward values vs float64
      const ref = bnRef(x, g, b, C);
      const out = tf.tidy(() => {
        const o = batchNormTrain(tf.tensor(x, shape), tf.tensor1d(g), tf.tensor1d(b), EPS);
        return [o.y.dataSync(), o.mean.dataSync(), o.variance.dataSync()];
      });
      expect(relErr(out[0], ref.y)).toBeLessThan(1e-5);
      expect(relErr(out[1], ref.mean)).toBeLessThan(1e-6);
      expect(relErr(out[2], ref.variance)).toBeLessThan(1e-6);
    },
  );

  it('matches the plain-ops version (values and gradients) on a larger shape', () => {
    const shape = [8, 7, 7, 24];
    const { x, g, b, r, rm, rv } = inputs(shape, 5);
    const run = (bn: typeof batchNormTrain) =>
      tf.tidy(() => {
        const rt = tf.tensor(r, shape);
        const rmt = tf.tensor1d(rm);
        const rvt = tf.tensor1d(rv);
        const xt = tf.tensor(x, shape);
        const gt = tf.tensor1d(g);
        const bt = tf.tensor1d(b);
        const o = bn(xt, gt, bt, EPS);
        const grads = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
          lossOf(bn, a, c as tf.Tensor1D, d as tf.Tensor1D, rt, rmt, rvt),
        )([xt, gt, bt]);
        return [o.y, o.mean, o.variance, ...grads].map((t) => t.dataSync());
      });
    const fused = run(batchNormTrain);
    const ops = run(batchNormTrainOps);
    for (let i = 0; i < fused.length; i++) expect(relErr(fused[i], ops[i])).toBeLessThan(1e-5);
  });

  it('leaks no tensors or backend buffers, forward and backward', () => {
    const x = tf.tensor(randomData(2 * 5 * 5 * 8, 3), [2, 5, 5, 8]);
    const g = tf.variable(tf.ones([8]) as tf.Tensor1D);
    const b = tf.variable(tf.zeros([8]) as tf.Tensor1D);
    const step = () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const { y, mean, variance } = batchNormTrain(x, g, b);
          return tf.add(tf.sum(tf.square(y)), tf.sum(tf.add(mean, variance))) as tf.Scalar;
        });
        value.dataSync();
        Object.values(grads).forEach((t) => t.dataSync());
      });
    step();
    const tensors = tf.memory().numTensors;
    const buffers = tf.engine().backend.numDataIds();
    for (let i = 0; i < 3; i++) step();
    tf.tidy(() => {
      batchNormTrain(x, g, b).y.dataSync();
    });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
    tf.dispose([x, g, b]);
  });

  it.each(['relu', 'relu6'] as const)(
    'with activation %s (the fused kernel on wasm, act after the plain batch norm on cpu): act of the plain output, gradients included',
    (act) => {
      const { x, g, b, r } = inputs([3, 4, 4, 5], 31);
      const scaled = x.map((v) => v * 6); // values on both sides of 0 and 6
      const ref = bnRef(scaled, g, b, 5);
      const run = (withAct: boolean) =>
        tf.tidy(() => {
          const f = (t: tf.Tensor) => {
            const out = batchNormTrain(t, tf.tensor1d(g), tf.tensor1d(b), EPS, withAct ? act : undefined).y;
            return withAct ? out : act === 'relu' ? tf.relu(out) : tf.relu6(out);
          };
          const xt = tf.tensor(scaled, [3, 4, 4, 5]);
          const y = f(xt);
          const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), tf.tensor(r, [3, 4, 4, 5]))))(xt);
          return [y, dx].map((t) => Float32Array.from(t.dataSync() as Float32Array));
        });
      const [y, dx] = run(true);
      const [y0, dx0] = run(false);
      expect(Array.from(y)).toEqual(Array.from(y0));
      expect(Array.from(dx)).toEqual(Array.from(dx0));
      const hi = act === 'relu' ? Infinity : 6;
      expect(
        relErr(
          y,
          ref.y.map((v) => Math.min(Math.max(v, 0), hi)),
        ),
      ).toBeLessThan(1e-5);
      expect(y.filter((v) => v === 0).length).toBeGreaterThan(5);
    },
  );

  it('rejects bad shapes and activations', () => {
    tf.tidy(() => {
      expect(() =>
        batchNormTrain(tf.ones([2, 3]), tf.ones([3]), tf.zeros([3]), EPS, 'hswish' as 'relu'),
      ).toThrow(/activation must be relu or relu6, got hswish/);
      expect(() => batchNormTrain(tf.ones([2, 3]), tf.ones([4]), tf.zeros([3]))).toThrow(/shape/);
      expect(() => batchNormTrain(tf.ones([3]), tf.ones([3]), tf.zeros([3]))).toThrow(/rank/);
    });
  });
});
