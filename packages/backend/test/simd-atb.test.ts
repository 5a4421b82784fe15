/**
 * The wasm BatchMatMul with a transposed left operand (`aᵀ·b`, the weight gradient of a 1×1 convolution) runs the
 * SIMD block kernels: bit for bit the sequential float32 sum over k written here, for row and column tails
 * (M mod 4, N mod 8 = 4), several K chunks, and a 3-D operand; N not a multiple of 4 takes the transposing path.
 */
import * as tf from '@tensorflow/tfjs-core';
import { simdAtbKernels } from '../src/wasm/simd/atb-kernels';
import type { WasmBackendLike } from '../src/wasm/wasm-backend';
import { randomData, relErr, useBackend } from './helpers';

beforeAll(async () => {
  await useBackend('wasm');
});

/** out[m, n] = Σ_k a[k, m]·b[k, n], summed in k order in float32 (a product rounded, then a sum rounded). */
function atbRef(a: Float32Array, b: Float32Array, K: number, M: number, N: number): Float32Array {
  const out = new Float32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s = Math.fround(s + Math.fround(a[k * M + m] * b[k * N + n]));
      out[m * N + n] = s;
    }
  }
  return out;
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

test('the SIMD aᵀ·b kernels are available on the wasm backend in Node', () => {
  expect(simdAtbKernels(tf.backend() as unknown as WasmBackendLike)).not.toBeNull();
});

// [K, M, N]: K over several chunks (32768 / N rows each), M with a tail of 1–3 rows, N with a 4-column tail
it.each([
  [64, 8, 48],
  [5000, 8, 48],
  [700, 9, 12],
  [3000, 13, 20],
  [100, 48, 8],
  [40, 11, 96],
  [9, 8, 8],
])('K %i, M %i, N %i: bits of the sequential float32 sum', (K, M, N) => {
  const a = randomData(K * M, K + M);
  const b = randomData(K * N, K + N + 1);
  const before = tf.memory().numTensors;
  const out = tf.tidy(() =>
    tf.matMul(tf.tensor2d(a, [K, M]), tf.tensor2d(b, [K, N]), true, false).dataSync(),
  );
  expect(tf.memory().numTensors).toBe(before);
  expect(bits(out as Float32Array)).toEqual(bits(atbRef(a, b, K, M, N)));
});

test('a 3-D operand [1, K, M] gives the same bits; N = 6 (not a multiple of 4) is still correct', () => {
  const [K, M] = [300, 8];
  const a = randomData(K * M, 1);
  const b = randomData(K * 16, 2);
  const out3 = tf.tidy(() =>
    tf.matMul(tf.tensor3d(a, [1, K, M]), tf.tensor3d(b, [1, K, 16]), true, false).dataSync(),
  );
  expect(bits(out3 as Float32Array)).toEqual(bits(atbRef(a, b, K, M, 16)));
  const b6 = randomData(K * 6, 3);
  const out6 = tf.tidy(() =>
    tf.matMul(tf.tensor2d(a, [K, M]), tf.tensor2d(b6, [K, 6]), true, false).dataSync(),
  );
  expect(relErr(out6, atbRef(a, b6, K, M, 6))).toBeLessThan(1e-5);
});
