/**
 * The wasm SIMD loops of the training batch norm and the ReLU6 gradient give the same bits as the JS loops
 * they replace (batch-norm-core's, checked against float64 references in batch-norm-train.test.ts) and as a
 * scalar formula written here, on channel counts with and without a multiple of 4, several tiles, and values
 * that stress the edges (exact 0 and 6, −0, ±∞, NaN, a large per-channel offset).
 */
import * as tf from '@tensorflow/tfjs-core';
import { bnBackward, bnForward, jsBnLoops } from '../src/batch-norm-core';
import { simdBnKernels } from '../src/wasm/simd/bn-kernels';
import { simdBnLoops } from '../src/wasm/simd/bn-loops';
import { heapF32, type WasmBackendLike } from '../src/wasm/wasm-backend';
import { maskedGrad } from '../src/wasm/kernels/relu6-grad';
import { RELU6_GRAD } from '@netaug/core';
import { randomData, useBackend } from './helpers';

const EPS = 1e-5;

let backend: WasmBackendLike;
beforeAll(async () => {
  await useBackend('wasm');
  backend = tf.backend() as unknown as WasmBackendLike;
});

/** The float32 bit patterns (so NaN == NaN and −0 ≠ +0). */
const bits = (a: Float32Array) =>
  Array.from(new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + 4 * a.length)));

/** A heap-resident float32 tensor holding `data` and a live view of it (re-taken after every allocation). */
function onHeap(data: Float32Array, shape: number[]) {
  const t = tf.tensor(data, shape);
  return { t, view: () => heapF32(backend, { dataId: t.dataId, shape, dtype: 'float32' }) };
}

// [rows, C]: C < 4 (all JS), multiples of 4, remainders, one row, several tiles (4096 floats each), C > 4096.
const CASES: [number, number][] = [
  [37, 3],
  [50, 4],
  [300, 8],
  [123, 12],
  [257, 7],
  [1, 16],
  [2000, 18],
  [700, 64],
  [9, 300],
  [3, 4100],
];

test('the SIMD module is available on the wasm backend in Node (else the JS loops run and the tests below compare nothing)', () => {
  expect(simdBnKernels(backend)).not.toBeNull();
  expect(simdBnLoops(backend, 4)).not.toBeNull();
});

describe.each(CASES)('batch-norm loops, %i rows × %i channels: SIMD bits = JS bits', (rows, C) => {
  const n = rows * C;
  // per-channel scale and a large offset on some channels (the shifted sums must not cancel differently)
  const x = randomData(n, 3).map((v, i) => v * (1 + (i % C)) + ((i % C) % 3 === 0 ? 1000 : 0.5));
  const gamma = randomData(C, 4).map((v) => v + 1.5);
  const beta = randomData(C, 5);
  const dy = randomData(n, 6);
  dy[0] = -0;
  const dmean = randomData(C, 7);
  const dvar = randomData(C, 8);

  const gammaWide = gamma.map((v) => 4 * v); // normalised values past 6 too
  const run = (useSimd: boolean, clampHi: number | null = null, g = gamma) =>
    tf.tidy(() => {
      const X = onHeap(x, [rows, C]);
      const DY = onHeap(dy, [rows, C]);
      const y = onHeap(new Float32Array(n), [rows, C]);
      const dx = onHeap(new Float32Array(n), [rows, C]);
      const simd = useSimd ? simdBnLoops(backend, C) : null;
      if (useSimd && C >= 4) expect(simd).not.toBeNull();
      const mean = new Float32Array(C);
      const variance = new Float32Array(C);
      const dgamma = new Float32Array(C);
      const dbeta = new Float32Array(C);
      try {
        bnForward(X.view(), g, beta, EPS, C, y.view(), mean, variance, simd?.loops ?? jsBnLoops, clampHi); // prettier-ignore
        bnBackward(DY.view(), X.view(), g, mean, variance, dmean, dvar, EPS, C, dx.view(), dgamma, dbeta, simd?.loops ?? jsBnLoops); // prettier-ignore
      } finally {
        simd?.dispose();
      }
      return { y: y.view().slice(), dx: dx.view().slice(), mean, variance, dgamma, dbeta };
    });

  it('forward and backward', () => {
    const before = tf.memory().numTensors;
    const js = run(false);
    const simd = run(true);
    expect(tf.memory().numTensors).toBe(before);
    for (const k of ['y', 'dx', 'mean', 'variance', 'dgamma', 'dbeta'] as const) {
      expect({ k, bits: bits(simd[k]) }).toEqual({ k, bits: bits(js[k]) });
    }
    // not a vacuous comparison: the outputs were written
    expect(js.y.some((v) => v !== 0)).toBe(true);
    expect(js.dx.some((v) => v !== 0)).toBe(true);
  });

  it.each([
    ['relu6', 6],
    ['relu', Infinity],
  ])('forward fused with %s: the same bits, and the clamp of the plain output', (_act, hi) => {
    const js = run(false, hi, gammaWide);
    const simd = run(true, hi, gammaWide);
    expect(bits(simd.y)).toEqual(bits(js.y));
    const plain = run(false, null, gammaWide).y.map((v) => Math.min(Math.max(v, 0), hi));
    expect(bits(js.y)).toEqual(bits(plain));
    if (rows > 1) expect(js.y.some((v) => v === 0) && js.y.some((v) => v > 0 && v < hi)).toBe(true);
    if (rows > 1 && hi === 6 && C >= 8) expect(js.y.some((v) => v === 6)).toBe(true);
  });
});

test('the clamped affine pass on edge values (−0, NaN, exactly 0 and 6, just past them): SIMD bits = JS bits', () => {
  const C = 8;
  // a·A + D per channel: A = 1, D = 0, so out = a in float64, rounded, then clamped
  const a = Float32Array.from([
    -0,
    0,
    6,
    6.0000005,
    5.9999995,
    -1e-45,
    1e-45,
    NaN,
    -3,
    9,
    1e-40,
    -1e-40,
    Infinity,
    -Infinity,
    2,
    4,
  ]);
  const A = new Float64Array(C).fill(1);
  const D = new Float64Array(C);
  D[3] = -1e-50; // a tiny negative sum: rounds to −0, which the clamp must turn into +0
  for (const hi of [6, Infinity]) {
    const [js, simd] = [false, true].map((useSimd) =>
      tf.tidy(() => {
        const [X, OUT] = [a, new Float32Array(a.length)].map((d) => onHeap(d, [2, C]));
        const loops = useSimd ? simdBnLoops(backend, C) : null;
        try {
          (loops?.loops ?? jsBnLoops).channelAffine(X.view(), A, null, A, D, C, OUT.view(), hi);
        } finally {
          loops?.dispose();
        }
        return OUT.view().slice();
      }),
    );
    // NaN stays NaN; its sign/payload bits are not specified (V8's Math.max returns a negative NaN here)
    const canon = (v: Float32Array) => bits(v.map((x) => (Number.isNaN(x) ? NaN : x)));
    expect(Number.isNaN(js[7]) && Number.isNaN(simd[7])).toBe(true);
    expect({ hi, bits: canon(simd) }).toEqual({ hi, bits: canon(js) });
    expect(Object.is(js[0], 0) && Object.is(js[11], 0)).toBe(true); // −0 in, +0 out; −1e-40 → +0
  }
});

/** Mask inputs at the edges: ±0, exactly 6 and its neighbours, denormals, ±∞, NaN. */
const SPECIAL = [0, -0, 6, Math.fround(6.0000005), 5.9999995, 1e-45, -1e-45, Infinity, -Infinity, NaN, 3, -2];

test('the gradient masks of the fused activations (read from the output y): relu 0 < y, relu6 0 < y < 6, bit for bit', () => {
  for (const n of [3, 13, 1001]) {
    const y = randomData(n, n).map((v, i) => (i < SPECIAL.length ? SPECIAL[i] : v * 8));
    const dy = randomData(n, n + 1).map((v, i) => (i === 4 ? NaN : i === 5 ? -v : v));
    for (const kind of ['relu6GradY', 'reluGradY'] as const) {
      const expected = new Float32Array(n);
      for (let i = 0; i < n; i++)
        expected[i] = dy[i] * (y[i] > 0 && (kind === 'reluGradY' || y[i] < 6) ? 1 : 0);
      const out = tf.tidy(() => {
        const [Y, DY, DX] = [y, dy, new Float32Array(n)].map((d) => onHeap(d, [n]));
        maskedGrad(backend, kind, DX.view(), DY.view(), Y.view());
        return DX.view().slice();
      });
      expect({ kind, n, bits: bits(out) }).toEqual({ kind, n, bits: bits(expected) });
    }
  }
});

test('the wasm ReLU6 gradient kernel: dy · (0 < x ≤ 6), bit for bit, with a tail of n mod 4 elements', () => {
  for (const n of [1, 3, 4, 13, 1001]) {
    const x = randomData(n, n).map((v, i) => (i < SPECIAL.length ? SPECIAL[i] : v * 8));
    const dy = randomData(n, n + 1).map((v, i) => (i === 2 ? -Infinity : i === 4 ? NaN : i === 5 ? -v : v));
    const expected = new Float32Array(n);
    for (let i = 0; i < n; i++) expected[i] = dy[i] * (x[i] > 0 && x[i] <= 6 ? 1 : 0);
    const out = tf.tidy(() =>
      (tf.engine().runKernel(RELU6_GRAD, { dy: tf.tensor(dy), x: tf.tensor(x) }, {}) as tf.Tensor).dataSync(),
    ) as Float32Array;
    expect(bits(out)).toEqual(bits(expected));
  }
});
