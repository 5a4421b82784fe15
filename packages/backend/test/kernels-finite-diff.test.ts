/**
 * Each wasm gradient kernel against float64 finite differences of the forward op, computed in JS:
 * the gradient of f = Σ conv(x, w) · r (r random) from tf.grad on the wasm backend must match
 * (f(v + h) − f(v − h)) / 2h for every element of the differentiated tensor.
 */
import * as tf from '@tensorflow/tfjs-core';
import { convRef, finiteDiff, randomData, relErr, useBackend, type Pad } from './helpers';

interface Case {
  N: number;
  H: number;
  W: number;
  C: number;
  F: number; // out channels (conv) or channel multiplier (depthwise)
  k: number;
  s: number;
  pad: Pad;
}

const CONV_CASES: Case[] = [
  { N: 2, H: 7, W: 7, C: 3, F: 2, k: 3, s: 1, pad: 'same' },
  { N: 2, H: 9, W: 9, C: 2, F: 3, k: 3, s: 2, pad: 'same' },
  { N: 2, H: 8, W: 8, C: 2, F: 2, k: 3, s: 2, pad: 'same' }, // even size: asymmetric SAME padding
  { N: 2, H: 7, W: 7, C: 2, F: 2, k: 5, s: 2, pad: 'valid' },
  { N: 2, H: 5, W: 5, C: 4, F: 3, k: 1, s: 1, pad: 'same' },
  { N: 2, H: 7, W: 7, C: 3, F: 2, k: 1, s: 2, pad: 'same' },
  { N: 1, H: 8, W: 6, C: 2, F: 2, k: 3, s: 2, pad: 'valid' },
];

const DEPTHWISE_CASES: Case[] = [
  { N: 2, H: 7, W: 7, C: 3, F: 1, k: 3, s: 1, pad: 'same' },
  { N: 2, H: 9, W: 9, C: 5, F: 1, k: 3, s: 2, pad: 'same' },
  { N: 2, H: 8, W: 8, C: 4, F: 1, k: 3, s: 2, pad: 'same' },
  { N: 2, H: 9, W: 9, C: 3, F: 1, k: 5, s: 2, pad: 'same' },
  { N: 1, H: 9, W: 9, C: 2, F: 1, k: 7, s: 1, pad: 'same' },
  { N: 1, H: 7, W: 7, C: 6, F: 1, k: 7, s: 2, pad: 'same' },
  { N: 2, H: 7, W: 7, C: 3, F: 1, k: 5, s: 2, pad: 'valid' },
  { N: 1, H: 6, W: 6, C: 2, F: 2, k: 3, s: 1, pad: 'same' }, // channel multiplier 2 (generic path)
];

const name = (c: Case) => `N${c.N} ${c.H}x${c.W}x${c.C} F${c.F} k${c.k} s${c.s} ${c.pad}`;

/** Analytic gradients of Σ op(x, w)·r with respect to x and w, on wasm. */
function wasmGrads(
  c: Case,
  depthwise: boolean,
  x: Float32Array,
  w: Float32Array,
  r: Float32Array,
  yShape: number[],
) {
  const xs = [c.N, c.H, c.W, c.C];
  const ws = [c.k, c.k, c.C, c.F];
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, xs as [number, number, number, number]);
    const wt = tf.tensor4d(w, ws as [number, number, number, number]);
    const rt = tf.tensor(r, yShape);
    const op = (a: tf.Tensor4D, b: tf.Tensor4D) =>
      depthwise ? tf.depthwiseConv2d(a, b, c.s, c.pad) : tf.conv2d(a, b, c.s, c.pad);
    const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(op(a as tf.Tensor4D, b as tf.Tensor4D), rt)),
    )([xt, wt]);
    return { gx: gx.dataSync() as Float32Array, gw: gw.dataSync() as Float32Array };
  });
}

function check(c: Case, depthwise: boolean, seed: number): void {
  const xs = [c.N, c.H, c.W, c.C];
  const ws = [c.k, c.k, c.C, c.F];
  const x = randomData(
    xs.reduce((a, b) => a * b),
    seed,
  );
  const w = randomData(
    ws.reduce((a, b) => a * b),
    seed + 1,
  );
  const { shape: yShape, y } = convRef(x, xs, w, ws, c.s, c.pad, depthwise);
  const r = randomData(y.length, seed + 2);
  const { gx, gw } = wasmGrads(c, depthwise, x, w, r, yShape);
  const fdW = finiteDiff(w, (wp) => convRef(x, xs, wp, ws, c.s, c.pad, depthwise).y, r);
  const fdX = finiteDiff(x, (xp) => convRef(xp, xs, w, ws, c.s, c.pad, depthwise).y, r);
  // float32 kernels vs float64 finite differences (exact up to rounding: f is linear in each argument)
  expect(relErr(gw, fdW)).toBeLessThan(1e-5);
  expect(relErr(gx, fdX)).toBeLessThan(1e-5);
  const scaleW = Math.max(...fdW.map(Math.abs));
  const scaleX = Math.max(...fdX.map(Math.abs));
  for (let i = 0; i < gw.length; i++) expect(Math.abs(gw[i] - fdW[i])).toBeLessThanOrEqual(1e-3 * scaleW);
  for (let i = 0; i < gx.length; i++) expect(Math.abs(gx[i] - fdX[i])).toBeLessThanOrEqual(1e-3 * scaleX);
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('Conv2DBackpropFilter / Conv2DBackpropInput on wasm vs float64 finite differences', () => {
  test.each(CONV_CASES.map((c) => [name(c), c] as const))('%s', (_n, c) => {
    check(c, false, 11);
  });
});

describe('DepthwiseConv2dNativeBackpropFilter / BackpropInput on wasm vs float64 finite differences', () => {
  test.each(DEPTHWISE_CASES.map((c) => [name(c), c] as const))('%s', (_n, c) => {
    check(c, true, 23);
  });
});
