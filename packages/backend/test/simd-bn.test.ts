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

  const run = (useSimd: boolean) =>
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
        bnForward(X.view(), gamma, beta, EPS, C, y.view(), mean, variance, simd?.loops ?? jsBnLoops);
        bnBackward(DY.view(), X.view(), gamma, mean, variance, dmean, dvar, EPS, C, dx.view(), dgamma, dbeta, simd?.loops ?? jsBnLoops); // prettier-ignore
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
});

test('the wasm ReLU6 gradient kernel: dy · (0 < x ≤ 6), bit for bit, with a tail of n mod 4 elements', () => {
  const special = [
    0,
    -0,
    6,
    Math.fround(6.0000005),
    5.9999995,
    1e-45,
    -1e-45,
    Infinity,
    -Infinity,
    NaN,
    3,
    -2,
  ];
  for (const n of [1, 3, 4, 13, 1001]) {
    const x = randomData(n, n).map((v, i) => (i < special.length ? special[i] : v * 8));
    const dy = randomData(n, n + 1).map((v, i) => (i === 2 ? -Infinity : i === 4 ? NaN : i === 5 ? -v : v));
    const expected = new Float32Array(n);
    for (let i = 0; i < n; i++) expected[i] = dy[i] * (x[i] > 0 && x[i] <= 6 ? 1 : 0);
    const out = tf.tidy(() =>
      (tf.engine().runKernel(RELU6_GRAD, { dy: tf.tensor(dy), x: tf.tensor(x) }, {}) as tf.Tensor).dataSync(),
    ) as Float32Array;
    expect(bits(out)).toEqual(bits(expected));
  }
});
