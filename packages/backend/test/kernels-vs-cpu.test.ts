/**
 * Each wasm kernel against the tfjs cpu backend's kernel on larger shapes (strides 1/2, SAME/VALID, odd
 * sizes, kernels 1/3/5/7, batch > 1): relative error (norm-wise) ≤ 1e-4.
 */
import { setIm2colChunkLimitForTests } from '../src/wasm/kernels/conv2d-backprop-filter';
import * as tf from '@tensorflow/tfjs-core';
import { simdTapKernels } from '../src/wasm/simd/tap-kernels';
import type { WasmBackendLike } from '../src/wasm/wasm-backend';
import { dimInfo, randomData, relErr, runKernelOn, useBackend, type Pad } from './helpers';

const TOL = 1e-4;

interface Case {
  N: number;
  H: number;
  C: number;
  F: number;
  k: number;
  s: number;
  pad: Pad;
}

const CONV: Case[] = [
  { N: 3, H: 9, C: 8, F: 12, k: 3, s: 1, pad: 'same' },
  { N: 3, H: 9, C: 3, F: 16, k: 3, s: 2, pad: 'same' }, // stem-like
  { N: 2, H: 14, C: 6, F: 8, k: 3, s: 2, pad: 'same' },
  { N: 2, H: 11, C: 5, F: 7, k: 5, s: 2, pad: 'valid' },
  { N: 4, H: 7, C: 16, F: 8, k: 1, s: 1, pad: 'same' }, // project (Cin > Cout)
  { N: 4, H: 7, C: 8, F: 24, k: 1, s: 1, pad: 'same' }, // expand (Cin < Cout)
  { N: 2, H: 9, C: 6, F: 10, k: 1, s: 2, pad: 'same' },
];

const DEPTHWISE: Case[] = [
  { N: 3, H: 9, C: 16, F: 1, k: 3, s: 1, pad: 'same' },
  { N: 3, H: 14, C: 24, F: 1, k: 3, s: 2, pad: 'same' },
  { N: 2, H: 9, C: 10, F: 1, k: 5, s: 1, pad: 'same' },
  { N: 2, H: 11, C: 7, F: 1, k: 5, s: 2, pad: 'same' },
  { N: 2, H: 9, C: 12, F: 1, k: 7, s: 2, pad: 'same' },
  { N: 2, H: 13, C: 9, F: 1, k: 3, s: 2, pad: 'valid' },
  { N: 2, H: 7, C: 4, F: 3, k: 3, s: 1, pad: 'same' }, // channel multiplier 3
  { N: 2, H: 9, C: 5, F: 1, k: 1, s: 2, pad: 'same' }, // a stride phase without taps
];

const label = (c: Case) => `N${c.N} ${c.H}x${c.H}x${c.C} F${c.F} k${c.k} s${c.s} ${c.pad}`;

async function compare(
  kernel: string,
  inputs: Record<string, { data: Float32Array; shape: number[] }>,
  attrs: Record<string, unknown>,
) {
  const wasm = await runKernelOn('wasm', kernel, inputs, attrs);
  const cpu = await runKernelOn('cpu', kernel, inputs, attrs);
  expect(wasm.length).toBe(cpu.length);
  expect(relErr(wasm, cpu)).toBeLessThanOrEqual(TOL);
}

function tensors(c: Case, depthwise: boolean, seed: number) {
  const o = dimInfo(c.H, c.k, c.s, c.pad).out;
  const OC = depthwise ? c.C * c.F : c.F;
  const xShape = [c.N, c.H, c.H, c.C];
  const fShape = [c.k, c.k, c.C, c.F];
  const dyShape = [c.N, o, o, OC];
  const size = (s: number[]) => s.reduce((a, b) => a * b);
  return {
    xShape,
    fShape,
    x: { data: randomData(size(xShape), seed), shape: xShape },
    filter: { data: randomData(size(fShape), seed + 1), shape: fShape },
    dy: { data: randomData(size(dyShape), seed + 2), shape: dyShape },
  };
}

describe('wasm vs cpu: Conv2DBackpropFilter', () => {
  test.each(CONV.map((c) => [label(c), c] as const))('%s', async (_n, c) => {
    const t = tensors(c, false, 5);
    await compare(
      'Conv2DBackpropFilter',
      { x: t.x, dy: t.dy },
      { strides: [c.s, c.s], pad: c.pad, dataFormat: 'NHWC', filterShape: t.fShape },
    );
  });
});

describe('wasm vs cpu: Conv2DBackpropInput (1×1 via matmul, others native)', () => {
  test.each(CONV.map((c) => [label(c), c] as const))('%s', async (_n, c) => {
    const t = tensors(c, false, 6);
    await compare(
      'Conv2DBackpropInput',
      { dy: t.dy, filter: t.filter },
      { strides: [c.s, c.s], pad: c.pad, dataFormat: 'NHWC', inputShape: t.xShape },
    );
  });
});

describe('wasm vs cpu: DepthwiseConv2dNativeBackpropFilter', () => {
  test.each(DEPTHWISE.map((c) => [label(c), c] as const))('%s', async (_n, c) => {
    const t = tensors(c, true, 7);
    await compare(
      'DepthwiseConv2dNativeBackpropFilter',
      { x: t.x, dy: t.dy },
      { strides: [c.s, c.s], dilations: [1, 1], pad: c.pad, filterShape: t.fShape },
    );
  });
});

describe('wasm vs cpu: DepthwiseConv2dNativeBackpropInput', () => {
  test.each(DEPTHWISE.map((c) => [label(c), c] as const))('%s', async (_n, c) => {
    const t = tensors(c, true, 8);
    await compare(
      'DepthwiseConv2dNativeBackpropInput',
      { dy: t.dy, filter: t.filter },
      { strides: [c.s, c.s], dilations: [1, 1], pad: c.pad, inputShape: t.xShape },
    );
  });
});

test('Conv2DBackpropFilter processed in im2col chunks (limit lowered to force 3 chunks) matches cpu', async () => {
  const c: Case = { N: 5, H: 9, C: 4, F: 6, k: 3, s: 2, pad: 'same' };
  const t = tensors(c, false, 9);
  // K = 36, 25 output pixels per image: 2 images per chunk → chunks of 2, 2, 1 images.
  setIm2colChunkLimitForTests(36 * 25 * 2);
  try {
    await compare(
      'Conv2DBackpropFilter',
      { x: t.x, dy: t.dy },
      { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', filterShape: t.fShape },
    );
  } finally {
    setIm2colChunkLimitForTests(null);
  }
});

test('the SIMD tap kernels are available on the wasm backend in Node (else the slower JS paths run)', async () => {
  await useBackend('wasm');
  expect(simdTapKernels(tf.backend() as unknown as WasmBackendLike)).not.toBeNull();
});
