/**
 * Convolution kernels of the native backend against tfjs-backend-cpu and float64 references (forward) /
 * float64 finite differences (gradients): strides 1 and 2, SAME and VALID, odd 7×9 inputs, batch 2,
 * 1×1 / 3×3 / 5×5 filters, plain and depthwise (channel multiplier 1, and 2 once).
 */
import * as tf from '@tensorflow/tfjs-core';
import { nativeInfo } from '../src';
import { convRef, finiteDiff, randomData, relErr, runKernelOn, setupNative, size, type Pad } from './helpers';

beforeAll(() => setupNative());

const X_SHAPE = [2, 7, 9, 3];

interface Case {
  /** Input [N, H, W, C]; default X_SHAPE. Even sizes make TF SAME padding asymmetric at stride 2. */
  xShape?: number[];
  depthwise: boolean;
  k: number;
  stride: number;
  pad: Pad;
  mult?: number;
}

const cases: Case[] = [];
for (const depthwise of [false, true])
  for (const k of [1, 3, 5])
    for (const stride of [1, 2])
      for (const pad of ['same', 'valid'] as Pad[]) cases.push({ depthwise, k, stride, pad });
cases.push({ depthwise: true, k: 3, stride: 2, pad: 'same', mult: 2 });
// even sizes: SAME at stride 2 pads 0 before and 1 after (k 3), 1 before and 2 after (k 5)
for (const depthwise of [false, true])
  for (const k of [3, 5]) cases.push({ xShape: [2, 8, 10, 3], depthwise, k, stride: 2, pad: 'same' });

const name = (c: Case) =>
  `${c.xShape ? `${c.xShape.join('x')} ` : ''}${c.depthwise ? 'depthwise' : 'conv2d'} ${c.k}x${c.k} stride ${c.stride} ${c.pad}${c.mult ? ` mult ${c.mult}` : ''}`;

describe.each(cases)('%#', (c) => {
  const X_SHAPE = c.xShape ?? [2, 7, 9, 3];
  const C = X_SHAPE[3];
  const fShape = [c.k, c.k, C, c.depthwise ? (c.mult ?? 1) : 4];
  const x = randomData(size(X_SHAPE), 11);
  const w = randomData(size(fShape), 12);
  const ref = (xv: ArrayLike<number>, wv: ArrayLike<number>) =>
    convRef(xv, X_SHAPE, wv, fShape, c.stride, c.pad, c.depthwise);
  const yShape = ref(x, w).shape;
  const dy = randomData(size(yShape), 13);
  const attrs = { strides: c.stride, pad: c.pad, dilations: 1, dataFormat: 'NHWC' };
  const [fwd, bwdInput, bwdFilter] = c.depthwise
    ? ['DepthwiseConv2dNative', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter']
    : ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'];

  test(`${name(c)}: forward vs float64 and cpu`, async () => {
    const inputs = { x: { shape: X_SHAPE, values: x }, filter: { shape: fShape, values: w } };
    const [n] = await runKernelOn('native', fwd, inputs, attrs);
    const [cpu] = await runKernelOn('cpu', fwd, inputs, attrs);
    expect(n.shape).toEqual(yShape);
    expect(relErr(n.values, ref(x, w).y)).toBeLessThan(1e-6);
    expect(relErr(n.values, cpu.values)).toBeLessThan(1e-6);
  });

  test(`${name(c)}: input gradient vs float64 finite differences and cpu`, async () => {
    const inputs = { dy: { shape: yShape, values: dy }, filter: { shape: fShape, values: w } };
    const a = { ...attrs, inputShape: X_SHAPE };
    const [n] = await runKernelOn('native', bwdInput, inputs, a);
    const [cpu] = await runKernelOn('cpu', bwdInput, inputs, a);
    const fd = finiteDiff(x, dy, (xv) => ref(xv, w).y);
    expect(n.shape).toEqual(X_SHAPE);
    expect(relErr(n.values, fd)).toBeLessThan(1e-5);
    expect(relErr(n.values, cpu.values)).toBeLessThan(1e-5);
  });

  test(`${name(c)}: filter gradient vs float64 finite differences and cpu`, async () => {
    const inputs = { x: { shape: X_SHAPE, values: x }, dy: { shape: yShape, values: dy } };
    const a = { ...attrs, filterShape: fShape };
    const [n] = await runKernelOn('native', bwdFilter, inputs, a);
    const [cpu] = await runKernelOn('cpu', bwdFilter, inputs, a);
    const fd = finiteDiff(w, dy, (wv) => ref(x, wv).y);
    expect(n.shape).toEqual(fShape);
    expect(relErr(n.values, fd)).toBeLessThan(1e-5);
    expect(relErr(n.values, cpu.values)).toBeLessThan(1e-5);
  });
});

describe('other padding / dilation attributes agree with cpu', () => {
  const x = randomData(size(X_SHAPE), 21);
  const w = randomData(3 * 3 * 3 * 4, 22);
  const dw = randomData(3 * 3 * 3 * 1, 23);
  const fwdCases: [string, string, Record<string, unknown>, number[]][] = [
    ['Conv2D', 'numeric pad 1', { strides: 2, pad: 1, dilations: 1, dataFormat: 'NHWC' }, [3, 3, 3, 4]],
    [
      'Conv2D',
      'numeric pad 1 ceil',
      { strides: 2, pad: 1, dilations: 1, dataFormat: 'NHWC', dimRoundingMode: 'ceil' },
      [3, 3, 3, 4],
    ],
    [
      'Conv2D',
      'explicit pad',
      {
        strides: [1, 2],
        pad: [
          [0, 0],
          [2, 0],
          [1, 2],
          [0, 0],
        ],
        dilations: 1,
        dataFormat: 'NHWC',
      },
      [3, 3, 3, 4],
    ],
    ['Conv2D', 'dilation 2', { strides: 1, pad: 'same', dilations: 2, dataFormat: 'NHWC' }, [3, 3, 3, 4]],
    [
      'DepthwiseConv2dNative',
      'dilation 2',
      { strides: 1, pad: 'same', dilations: [2, 2], dataFormat: 'NHWC' },
      [3, 3, 3, 1],
    ],
    [
      'DepthwiseConv2dNative',
      'explicit pad',
      {
        strides: 2,
        pad: [
          [0, 0],
          [1, 1],
          [0, 2],
          [0, 0],
        ],
        dilations: 1,
        dataFormat: 'NHWC',
      },
      [3, 3, 3, 1],
    ],
  ];
  test.each(fwdCases)('%s %s', async (kernel, _label, attrs, fShape) => {
    const inputs = {
      x: { shape: X_SHAPE, values: x },
      filter: { shape: fShape, values: kernel === 'Conv2D' ? w : dw },
    };
    const before = nativeInfo().fallbacks;
    const [n] = await runKernelOn('native', kernel, inputs, attrs);
    const [cpu] = await runKernelOn('cpu', kernel, inputs, attrs);
    expect(n.shape).toEqual(cpu.shape);
    expect(relErr(n.values, cpu.values)).toBeLessThan(1e-6);
    expect(nativeInfo().fallbacks).toBe(before);
  });

  // tfjs-backend-cpu's depthwise gradient kernels ignore dilations (tfjs' gradient rejects them): float64 here
  test('depthwise gradients with dilation 2 vs float64 finite differences', async () => {
    const attrs = { strides: 1, pad: 'same', dilations: 2 };
    const fShape = [3, 3, 3, 1];
    const ref = (xv: ArrayLike<number>, wv: ArrayLike<number>) =>
      convRef(xv, X_SHAPE, wv, fShape, 1, 'same', true, 2);
    const yShape = ref(x, dw).shape;
    const g = randomData(size(yShape), 24);
    const [dx] = await runKernelOn(
      'native',
      'DepthwiseConv2dNativeBackpropInput',
      { dy: { shape: yShape, values: g }, filter: { shape: fShape, values: dw } },
      { ...attrs, inputShape: X_SHAPE },
    );
    expect(
      relErr(
        dx.values,
        finiteDiff(x, g, (xv) => ref(xv, dw).y),
      ),
    ).toBeLessThan(1e-5);
    const [df] = await runKernelOn(
      'native',
      'DepthwiseConv2dNativeBackpropFilter',
      { x: { shape: X_SHAPE, values: x }, dy: { shape: yShape, values: g } },
      { ...attrs, filterShape: fShape },
    );
    expect(
      relErr(
        df.values,
        finiteDiff(dw, g, (wv) => ref(x, wv).y),
      ),
    ).toBeLessThan(1e-5);
  });

  test('NCHW falls back to the cpu kernel (same result, counted)', async () => {
    const attrs = { strides: 1, pad: 'same', dilations: 1, dataFormat: 'NCHW' };
    const xs = [2, 3, 7, 9];
    const before = nativeInfo().fallbacks;
    // tfjs-backend-cpu's Conv2D supports NCHW
    const inputs = { x: { shape: xs, values: x }, filter: { shape: [3, 3, 3, 4], values: w } };
    const [n] = await runKernelOn('native', 'Conv2D', inputs, attrs);
    const [cpu] = await runKernelOn('cpu', 'Conv2D', inputs, attrs);
    expect(n.values).toEqual(cpu.values);
    expect(nativeInfo().fallbacks).toBe(before + 1);
  });

  test('tf.conv2d / tf.depthwiseConv2d gradients through the tape match cpu', async () => {
    const run = async (backend: 'native' | 'cpu') => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const xt = tf.tensor4d(x, X_SHAPE as [number, number, number, number]);
        const wt = tf.tensor4d(w, [3, 3, 3, 4]);
        const dt = tf.tensor4d(dw, [3, 3, 3, 1]);
        const f = (a: tf.Tensor4D, b: tf.Tensor4D, c: tf.Tensor4D) =>
          tf.sum(tf.square(tf.conv2d(tf.depthwiseConv2d(a, c, 2, 'same'), b, 1, 'valid')));
        const grads = tf.grads(f as (...t: tf.Tensor[]) => tf.Tensor)([xt, wt, dt]);
        return grads.map((g) => Float32Array.from(g.dataSync() as Float32Array));
      });
    };
    const n = await run('native');
    const c = await run('cpu');
    for (let i = 0; i < 3; i++) expect(relErr(n[i], c[i])).toBeLessThan(1e-5);
  });
});
