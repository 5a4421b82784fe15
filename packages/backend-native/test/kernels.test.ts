/**
 * The other native kernels against tfjs-backend-cpu: BatchMatMul, the fused batch norm (the JS reference
 * of @netaug/backend is its cpu kernel, plus float64 finite differences), ReLU/ReLU6 and the fused ReLU6
 * gradient, broadcasting arithmetic, Slice and PadV2; determinism; output-buffer recycling safety.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchNormTrain, registerBatchNormTrainKernels } from '@netaug/backend';
import { NATIVE_KERNELS, nativeAddon, nativeInfo, registerNativeBackend } from '../src';
import {
  bitEqual,
  finiteDiff,
  randomData,
  relErr,
  runKernelOn,
  setupNative,
  size,
  TEST_THREADS,
  useBackend,
} from './helpers';

beforeAll(() => {
  setupNative();
  registerBatchNormTrainKernels(); // the cpu reference kernels and the gradient
});

const f32 = (shape: number[], seed: number) => ({ shape, values: randomData(size(shape), seed) });

/** float64 training batch norm over channels-last `xv` (`C` channels): y, mean and biased variance. */
function bnRef64(xv: Float64Array, gamma: Float32Array, beta: Float32Array, C: number, eps: number) {
  const rows = xv.length / C;
  const y = new Float64Array(xv.length);
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let m = 0;
    for (let r = 0; r < rows; r++) m += xv[r * C + c];
    m /= rows;
    let v = 0;
    for (let r = 0; r < rows; r++) v += (xv[r * C + c] - m) ** 2;
    v /= rows;
    for (let r = 0; r < rows; r++)
      y[r * C + c] = ((xv[r * C + c] - m) / Math.sqrt(v + eps)) * gamma[c] + beta[c];
    mean[c] = m;
    variance[c] = v;
  }
  return { y, mean, variance };
}

async function bothAgree(
  kernel: string,
  inputs: Record<string, { shape: number[]; values: Float32Array }>,
  attrs = {},
  tol = 1e-6,
) {
  const n = await runKernelOn('native', kernel, inputs, attrs);
  const c = await runKernelOn('cpu', kernel, inputs, attrs);
  expect(n.length).toBe(c.length);
  for (let i = 0; i < n.length; i++) {
    expect(n[i].shape).toEqual(c[i].shape);
    expect(relErr(n[i].values, c[i].values)).toBeLessThanOrEqual(tol);
  }
  return n;
}

test('the overridden kernels are registered for native, cpu is untouched', () => {
  for (const k of NATIVE_KERNELS) expect(tf.getKernel(k, 'native')).toBeDefined();
  expect(tf.getKernel('Conv2D', 'cpu')).not.toBe(tf.getKernel('Conv2D', 'native'));
  // every cpu kernel exists for native too
  for (const k of tf.getKernelsForBackend('cpu')) expect(tf.getKernel(k.kernelName, 'native')).toBeDefined();
  registerNativeBackend({ threads: TEST_THREADS }); // idempotent
  const info = nativeInfo();
  expect(info.threads).toBe(TEST_THREADS);
  expect(info.onednn).toMatch(/^\d+\.\d+/);
});

describe('BatchMatMul', () => {
  const cases: [string, number[], number[], boolean, boolean][] = [
    ['2d', [37, 19], [19, 23], false, false],
    ['2d transposeA', [19, 37], [19, 23], true, false],
    ['2d transposeB', [37, 19], [23, 19], false, true],
    ['2d both', [19, 37], [23, 19], true, true],
    ['batched', [3, 5, 7], [3, 7, 4], false, false],
    ['batch broadcast a', [1, 5, 7], [3, 7, 4], false, false],
    ['batch broadcast b', [3, 5, 7], [7, 4], false, false],
    ['rank 4', [2, 3, 5, 7], [2, 3, 4, 7], false, true],
    ['rank 4 vs 1-batch', [1, 1, 5, 7], [2, 3, 7, 4], false, false],
    ['pointwise conv shape', [401, 8], [8, 24], false, false],
  ];
  test.each(cases)('%s', async (_n, as, bs, transposeA, transposeB) => {
    const before = nativeInfo().fallbacks;
    await bothAgree('BatchMatMul', { a: f32(as, 1), b: f32(bs, 2) }, { transposeA, transposeB }, 1e-6);
    expect(nativeInfo().fallbacks).toBe(before);
  });
});

describe('NetAugBatchNormTrain / Grad vs the JS reference (the cpu kernels of @netaug/backend)', () => {
  const shapes = [
    [2, 7, 9, 3],
    [4, 5, 5, 16],
    [64, 10],
    [3, 1, 1, 5],
  ];
  test.each(shapes)('forward and backward %p', async (...shape) => {
    const C = shape[shape.length - 1];
    const x = f32(shape, 3);
    for (let i = 0; i < x.values.length; i++) x.values[i] = x.values[i] * 2 + 5; // |mean| > std
    const gamma = f32([C], 4);
    const beta = f32([C], 5);
    const [, mean, variance] = await bothAgree(
      'NetAugBatchNormTrain',
      { x, gamma, beta },
      { epsilon: 1e-3 },
      2e-6,
    );
    const grad = {
      dy: f32(shape, 6),
      x,
      gamma,
      mean: { shape: [C], values: mean.values },
      variance: { shape: [C], values: variance.values },
      dmean: f32([C], 7),
      dvariance: f32([C], 8),
    };
    await bothAgree('NetAugBatchNormTrainGrad', grad, { epsilon: 1e-3 }, 2e-6);
    // zero upstream gradients into mean / variance (the usual case)
    const zeros = { shape: [C], values: new Float32Array(C) };
    await bothAgree(
      'NetAugBatchNormTrainGrad',
      { ...grad, dmean: zeros, dvariance: zeros },
      { epsilon: 1e-3 },
      2e-6,
    );
  });

  test('the biased variance and the gradient through all three outputs vs float64 finite differences', async () => {
    const shape = [2, 3, 3, 4];
    const C = 4;
    const x = f32(shape, 9);
    const gamma = f32([C], 10);
    const beta = f32([C], 11);
    const gy = randomData(size(shape), 12);
    const gm = randomData(C, 13);
    const gv = randomData(C, 14);
    // float64 forward: L = Σ y·gy + Σ mean·gm + Σ var·gv
    const loss = (xv: Float64Array) => {
      const { y, mean, variance } = bnRef64(xv, gamma.values, beta.values, C, 1e-3);
      return Float64Array.from([...y, ...mean, ...variance]);
    };
    const weights = new Float32Array([...gy, ...gm, ...gv]);
    const fd = finiteDiff(x.values, weights, loss, 1e-4);
    await useBackend('native');
    const dx = tf.tidy(() => {
      const xt = tf.tensor(x.values, shape);
      const g = tf.grad((t: tf.Tensor) => {
        const r = batchNormTrain(t, tf.tensor1d(gamma.values), tf.tensor1d(beta.values), 1e-3);
        return tf.addN([
          tf.sum(tf.mul(r.y, tf.tensor(gy, shape))),
          tf.sum(tf.mul(r.mean, tf.tensor1d(gm))),
          tf.sum(tf.mul(r.variance, tf.tensor1d(gv))),
        ]);
      })(xt);
      return Float32Array.from(g.dataSync() as Float32Array);
    });
    expect(relErr(dx, fd)).toBeLessThan(1e-4);
    const [, , variance] = await runKernelOn(
      'native',
      'NetAugBatchNormTrain',
      { x, gamma, beta },
      { epsilon: 1e-3 },
    );
    expect(relErr(variance.values, loss(Float64Array.from(x.values)).subarray(size(shape) + C))).toBeLessThan(
      1e-6,
    );
  });
});

describe('NetAugBatchNormActTrain / Grad: batch norm with ReLU / ReLU6 fused in', () => {
  const shapes = [
    [4, 7, 9, 24],
    [64, 10],
    [3, 1, 1, 5],
  ];
  /** act(batchNormTrain(x)) with separate kernels on `backend`, or the fused kernel on native. */
  const run = async (
    backend: 'native' | 'cpu',
    shape: number[],
    activation: 'relu' | 'relu6',
    fused: boolean,
    seed: number,
  ) => {
    await useBackend(backend);
    const C = shape[shape.length - 1];
    const xv = randomData(size(shape), seed);
    for (let i = 0; i < xv.length; i++) xv[i] = xv[i] * 3 + 1;
    const gamma = tf.tensor1d(randomData(C, seed + 1).map((g) => g * 4));
    const beta = tf.tensor1d(randomData(C, seed + 2).map((b) => b * 8));
    const w = tf.tensor(randomData(size(shape), seed + 3), shape);
    const wm = tf.tensor1d(randomData(C, seed + 4));
    const act = (y: tf.Tensor) => (activation === 'relu' ? tf.relu(y) : tf.relu6(y));
    const out = tf.tidy(() => {
      const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const r = fused
          ? batchNormTrain(x, g as tf.Tensor1D, b as tf.Tensor1D, 1e-3, activation)
          : batchNormTrain(x, g as tf.Tensor1D, b as tf.Tensor1D, 1e-3);
        const y = fused ? r.y : act(r.y);
        // the mean output feeds the loss too (a non-zero dmean)
        return { y, loss: tf.add(tf.sum(tf.mul(y, w)), tf.sum(tf.mul(r.mean, wm))) as tf.Scalar };
      };
      const x = tf.tensor(xv, shape);
      const y = f(x, gamma, beta).y;
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => f(a, b, c).loss)([x, gamma, beta]);
      return [y, ...g].map((t) => Float32Array.from(t.dataSync() as Float32Array));
    });
    tf.dispose([gamma, beta, w, wm]);
    return out;
  };

  test.each(shapes.flatMap((s) => [[s, 'relu'] as const, [s, 'relu6'] as const]))(
    '%p %s: output and gradients are the bits of the unfused kernels (saturated values included)',
    async (shape, activation) => {
      const fused = await run('native', [...shape], activation, true, 40);
      const plain = await run('native', [...shape], activation, false, 40);
      const cpu = await run('cpu', [...shape], activation, false, 40);
      const saturated = fused[0].filter((v) => v === 0 || v === 6).length;
      expect(saturated).toBeGreaterThan(0);
      if (activation === 'relu6' && size(shape) > 100)
        expect(fused[0].filter((v) => v === 6).length).toBeGreaterThan(0);
      for (let k = 0; k < 4; k++) {
        expect(bitEqual(fused[k], plain[k])).toBe(true);
        expect(relErr(fused[k], cpu[k])).toBeLessThan(2e-6);
      }
    },
  );

  test('ReLU6 gradient vs float64 finite differences (away from the kinks)', async () => {
    const shape = [2, 3, 3, 4];
    const C = 4;
    const x = f32(shape, 21);
    for (let i = 0; i < x.values.length; i++) x.values[i] *= 3;
    const gamma = { shape: [C], values: new Float32Array([4, -3, 5, 2]) };
    const beta = { shape: [C], values: new Float32Array([3, 1, 2, 0.5]) };
    const gy = randomData(size(shape), 22);
    /** float64 pre-activation z = batchNorm(x). */
    const bn = (xv: Float64Array) => bnRef64(xv, gamma.values, beta.values, C, 1e-3).y;
    const z = bn(Float64Array.from(x.values));
    // both kinds of saturation occur, and no z is so close to a kink that a difference step would cross it
    expect(z.filter((v) => v <= 0).length).toBeGreaterThan(3);
    expect(z.filter((v) => v >= 6).length).toBeGreaterThan(3);
    expect(z.filter((v) => v > 0 && v < 6).length).toBeGreaterThan(10);
    expect(Math.min(...z.map((v) => Math.min(Math.abs(v), Math.abs(v - 6))))).toBeGreaterThan(1e-3);
    const fd = finiteDiff(x.values, gy, (xv) => bn(xv).map((v) => Math.min(Math.max(v, 0), 6)), 1e-6);
    await useBackend('native');
    const dx = tf.tidy(() => {
      const g = tf.grad((t: tf.Tensor) => {
        const r = batchNormTrain(t, tf.tensor1d(gamma.values), tf.tensor1d(beta.values), 1e-3, 'relu6');
        return tf.sum(tf.mul(r.y, tf.tensor(gy, shape)));
      })(tf.tensor(x.values, shape));
      return Float32Array.from(g.dataSync() as Float32Array);
    });
    expect(relErr(dx, fd)).toBeLessThan(1e-3);
  });

  test('on native the forward and the gradient run as the two fused kernels, no separate ReLU6', async () => {
    await useBackend('native');
    const x = tf.tensor(randomData(2 * 3 * 3 * 4, 1), [2, 3, 3, 4]);
    const gamma = tf.ones([4]) as tf.Tensor1D;
    const beta = tf.zeros([4]) as tf.Tensor1D;
    const info = await tf.profile(() =>
      tf.grad((t: tf.Tensor) => tf.sum(batchNormTrain(t, gamma, beta, 1e-3, 'relu6').y))(x),
    );
    expect(info.kernelNames).toEqual(
      expect.arrayContaining(['NetAugBatchNormActTrain', 'NetAugBatchNormActTrainGrad']),
    );
    expect(info.kernelNames).not.toContain('Relu6');
    expect(info.kernelNames).not.toContain('NetAugRelu6Grad');
    tf.dispose([x, gamma, beta]);
  });

  test('a bad activation is rejected by name', async () => {
    await expect(
      runKernelOn(
        'native',
        'NetAugBatchNormActTrain',
        { x: f32([4, 3], 1), gamma: f32([3], 2), beta: f32([3], 3) },
        {
          epsilon: 1e-3,
          activation: 'hswish',
        },
      ),
    ).rejects.toThrow(/relu or relu6, got hswish/);
  });
});

describe('NetAugSgdUpdate', () => {
  /** The update as @netaug/trainer's Sgd writes it in tf ops (cpu backend: one float32 rounding per op). */
  const composite = (
    w: tf.Tensor,
    g: tf.Tensor,
    buf: tf.Tensor,
    a: { lr: number; momentum: number; weightDecay: number; nesterov: boolean },
  ) => {
    let gi = g;
    if (a.weightDecay > 0) gi = tf.add(gi, tf.mul(w, a.weightDecay));
    const nb = tf.add(tf.mul(buf, a.momentum), gi);
    const d = a.nesterov ? tf.add(gi, tf.mul(nb, a.momentum)) : nb;
    return [tf.sub(w, tf.mul(d, a.lr)), nb];
  };
  test.each([
    [[7], 0.1, 0.9, 4e-5, true],
    [[3, 3, 17, 5], 0.05, 0.9, 4e-5, true],
    [[40000], 0.01, 0.9, 0, true],
    [[257, 131], 0.3, 0.5, 1e-3, false],
  ] as [number[], number, number, number, boolean][])(
    '%j lr %p momentum %p wd %p nesterov %p: the same bits as the tf-op update, close to float64',
    async (shape, lr, momentum, weightDecay, nesterov) => {
      const attrs = { lr, momentum, weightDecay, nesterov };
      const w = f32(shape, 31);
      const g = f32(shape, 32);
      const buf = f32(shape, 33);
      const [nw, nb] = await runKernelOn('native', 'NetAugSgdUpdate', { w, g, buf }, attrs);
      await useBackend('cpu');
      const [cw, cb] = tf.tidy(() =>
        composite(
          tf.tensor(w.values, shape),
          tf.tensor(g.values, shape),
          tf.tensor(buf.values, shape),
          attrs,
        ).map((t) => Float32Array.from(t.dataSync() as Float32Array)),
      );
      expect(bitEqual(nw.values, cw)).toBe(true);
      expect(bitEqual(nb.values, cb)).toBe(true);
      // an independent float64 evaluation of the same formula
      let worst = 0;
      for (let i = 0; i < w.values.length; i++) {
        const gi = g.values[i] + weightDecay * w.values[i];
        const b = momentum * buf.values[i] + gi;
        const ref = w.values[i] - lr * (nesterov ? gi + momentum * b : b);
        worst = Math.max(worst, Math.abs(ref - nw.values[i]), Math.abs(b - nb.values[i]));
      }
      expect(worst).toBeLessThan(1e-6);
    },
  );

  test('mismatched shapes are rejected', async () => {
    await expect(
      runKernelOn(
        'native',
        'NetAugSgdUpdate',
        { w: f32([5], 1), g: f32([6], 2), buf: f32([5], 3) },
        {
          lr: 0.1,
          momentum: 0.9,
          weightDecay: 0,
          nesterov: true,
        },
      ),
    ).rejects.toThrow(/one shape/);
  });
});

describe('element-wise kernels', () => {
  test('Relu, Relu6 and NetAugRelu6Grad (including 0, 6 and NaN)', async () => {
    const x = f32([3, 50, 41], 15);
    for (let i = 0; i < x.values.length; i++) x.values[i] *= 8;
    x.values.set([0, 6, NaN, -0, 6.0000005, -1e-30], 0);
    const dy = f32([3, 50, 41], 16);
    dy.values[7] = NaN;
    for (const k of ['Relu', 'Relu6']) {
      const [n] = await runKernelOn('native', k, { x });
      const [c] = await runKernelOn('cpu', k, { x });
      expect(Array.from(n.values)).toEqual(Array.from(c.values));
    }
    const [g] = await runKernelOn('native', 'NetAugRelu6Grad', { dy, x });
    const expected = dy.values.map((d, i) => d * (x.values[i] > 0 && x.values[i] <= 6 ? 1 : 0));
    expect(Array.from(g.values)).toEqual(Array.from(expected));
  });

  test('tf.relu6 gradient on native uses the fused kernel and matches cpu', async () => {
    const x = f32([4, 9, 9, 8], 17);
    for (let i = 0; i < x.values.length; i++) x.values[i] *= 8;
    const run = async (b: 'native' | 'cpu') => {
      await useBackend(b);
      return tf.tidy(() => {
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu6(t), tf.tensor(x.values, x.shape))))(
          tf.tensor(x.values, x.shape),
        );
        return Float32Array.from(g.dataSync() as Float32Array);
      });
    };
    const n = await run('native');
    expect(Array.from(n)).toEqual(Array.from(await run('cpu')));
    expect((tf.getGradient('Relu6') as { netaug?: boolean }).netaug).toBe(true);
  });

  const binaries: [string, number[], number[]][] = [
    ['same', [4, 30, 30], [4, 30, 30]],
    ['scalar b', [4, 30, 30], []],
    ['scalar a', [1], [4, 30, 30]],
    ['trailing b', [4, 30, 30], [30]],
    ['trailing a', [1, 30, 30], [4, 30, 30]],
    ['general broadcast (cpu)', [4, 1, 30], [4, 30, 1]],
    ['tiny (cpu)', [3], [3]],
  ];
  test.each(binaries)('Add / Sub / Multiply / RealDiv, %s', async (_n, as, bs) => {
    for (const k of ['Add', 'Sub', 'Multiply', 'RealDiv'])
      await bothAgree(k, { a: f32(as, 18), b: f32(bs, 19) }, {}, 0);
  });

  test('Slice (strided and contiguous) and PadV2 match cpu exactly', async () => {
    const x = f32([3, 5, 40, 30], 20);
    for (const [begin, sz] of [
      [
        [0, 0, 0, 0],
        [3, 5, 17, 9],
      ],
      [
        [1, 2, 3, 4],
        [2, 3, -1, 5],
      ],
      [
        [1, 0, 0, 0],
        [1, 5, 40, 30],
      ],
      [
        [0, 1, 2, 0],
        [1, 1, 3, 30],
      ],
    ])
      await bothAgree('Slice', { x }, { begin, size: sz }, 0);
    await bothAgree(
      'PadV2',
      { x: f32([2, 3, 4], 21) },
      {
        paddings: [
          [1, 0],
          [0, 2],
          [3, 1],
        ],
        constantValue: 0.5,
      },
      0,
    );
    await bothAgree(
      'PadV2',
      { x: f32([1, 1, 146, 16], 22) },
      {
        paddings: [
          [0, 0],
          [0, 0],
          [0, 100],
          [0, 30],
        ],
        constantValue: 0,
      },
      0,
    );
  });
});

test('deterministic: the same inputs twice give bit-identical results (fixed thread count)', async () => {
  const inputs = {
    conv: { x: f32([4, 15, 15, 16], 30), filter: f32([3, 3, 16, 1], 31) },
    bn: { x: f32([8, 15, 15, 24], 32), gamma: f32([24], 33), beta: f32([24], 34) },
  };
  const once = async () => [
    ...(await runKernelOn(
      'native',
      'DepthwiseConv2dNativeBackpropFilter',
      { x: inputs.conv.x, dy: f32([4, 15, 15, 16], 35) },
      { strides: 1, pad: 'same', dilations: 1, filterShape: [3, 3, 16, 1] },
    )),
    ...(await runKernelOn(
      'native',
      'Conv2DBackpropFilter',
      { x: f32([4, 15, 15, 16], 36), dy: f32([4, 8, 8, 24], 37) },
      { strides: 2, pad: 'same', filterShape: [3, 3, 16, 24] },
    )),
    ...(await runKernelOn(
      'native',
      'BatchMatMul',
      { a: f32([900, 16], 38), b: f32([900, 24], 39) },
      { transposeA: true, transposeB: false },
    )),
    ...(await runKernelOn('native', 'NetAugBatchNormTrain', inputs.bn, { epsilon: 1e-5 })),
  ];
  const a = await once();
  const b = await once();
  for (let i = 0; i < a.length; i++) expect(bitEqual(a[i].values, b[i].values)).toBe(true);
});

test('batch-norm sums do not depend on the thread count', async () => {
  const addon = nativeAddon();
  const x = randomData(64 * 9 * 9 * 24, 40);
  const g = randomData(24, 41);
  const b = randomData(24, 42);
  const run = (threads: number) => {
    addon.setThreads(threads);
    const y = new Float32Array(x.length);
    const m = new Float32Array(24);
    const v = new Float32Array(24);
    addon.batchNormTrain(x, g, b, 1e-5, y, m, v);
    return [y, m, v];
  };
  const one = run(1);
  const two = run(2);
  addon.setThreads(TEST_THREADS);
  for (let i = 0; i < 3; i++) expect(bitEqual(one[i], two[i])).toBe(true);
});

describe('recycled output buffers never overwrite values that left the backend', () => {
  test('dataSync() arrays survive dispose and later kernels', async () => {
    await useBackend('native');
    const x = tf.tensor(randomData(64 * 64, 50), [64, 64]);
    const y = tf.relu6(x);
    const held = y.dataSync() as Float32Array;
    const copy = Float32Array.from(held);
    y.dispose();
    for (let i = 0; i < 5; i++) tf.relu6(tf.neg(x)).dispose();
    expect(bitEqual(held, copy)).toBe(true);
    x.dispose();
  });

  test('a contiguous slice (a view of its input) survives disposing the input', async () => {
    await useBackend('native');
    const x = tf.tensor(randomData(64 * 64, 51), [64, 64]);
    const y = tf.relu6(x);
    const s = tf.slice(y, [0, 0], [10, 64]); // tfjs-backend-cpu: a subarray of y's buffer
    const expected = Float32Array.from((y.dataSync() as Float32Array).subarray(0, 640));
    // a fresh y (its values were never read) so the pool would recycle it if the view were not guarded
    const y2 = tf.relu6(tf.add(x, 1));
    const s2 = tf.slice(y2, [0, 0], [10, 64]);
    y2.dispose();
    for (let i = 0; i < 5; i++) tf.relu6(tf.neg(x)).dispose();
    const fromS2 = Float32Array.from(s2.dataSync() as Float32Array);
    const reference = tf.tidy(() =>
      Float32Array.from(tf.slice(tf.relu6(tf.add(x, 1)), [0, 0], [10, 64]).dataSync() as Float32Array),
    );
    expect(bitEqual(fromS2, reference)).toBe(true);
    expect(bitEqual(Float32Array.from(s.dataSync() as Float32Array), expected)).toBe(true);
    tf.dispose([x, y, s, s2]);
  });

  test('recycling happens: small buffers by size, large outputs in the arena', async () => {
    await useBackend('native');
    const x = tf.tensor(randomData(64 * 64, 52), [64, 64]); // 16 KiB
    tf.relu6(x).dispose();
    const hits = nativeInfo().pool.hits;
    tf.relu6(x).dispose();
    expect(nativeInfo().pool.hits).toBe(hits + 1);
    const big = tf.tensor(randomData(128 * 128, 53), [128, 128]); // 64 KiB
    tf.relu6(big).dispose();
    const arena = nativeInfo().pool.arena;
    tf.relu6(big).dispose();
    expect(nativeInfo().pool.arena.hits).toBe(arena.hits + 1);
    expect(nativeInfo().pool.arena.misses).toBe(arena.misses);
    tf.dispose([x, big]);
  });
});
