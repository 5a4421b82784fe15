#!/usr/bin/env node
/**
 * Per-kernel timings, one JSON line per case: the `native` backend through tfjs (kernel + tfjs overhead +
 * output allocation), the bare addon call (preallocated output: oneDNN / C++ only) and tfjs-backend-cpu's
 * kernel, best of `--reps` runs. Shapes are those of the mobilenetv2-tiny 28x28x1 batch-64 training step.
 *
 *   node bench/kernels.mjs [--reps 10] [--no-cpu] [--filter Depthwise]
 *
 * Threads: NETAUG_THREADS (default: all cores). Needs `npm run build` in this package.
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerNativeBackend, nativeInfo, nativeAddon, convGeometry } from '../dist/index.mjs';

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const reps = Number(opt('reps', 10));
const withCpu = !argv.includes('--no-cpu');
const filter = opt('filter', '');

registerNativeBackend();
const info = nativeInfo();
const conv = (kernel, xs, fs, strides, pad = 'same') => ({ kernel, xs, fs, strides, pad });
const CASES = [
  conv('Conv2D', [64, 28, 28, 1], [3, 3, 1, 16], 1),
  conv('Conv2D', [64, 28, 28, 16], [3, 3, 16, 32], 2),
  conv('Conv2D', [64, 14, 14, 32], [1, 1, 32, 64], 1, 'valid'),
  conv('DepthwiseConv2dNative', [64, 28, 28, 48], [3, 3, 48, 1], 1),
  conv('DepthwiseConv2dNative', [64, 28, 28, 48], [3, 3, 48, 1], 2),
  conv('DepthwiseConv2dNative', [64, 14, 14, 96], [3, 3, 96, 1], 1),
  conv('DepthwiseConv2dNative', [64, 7, 7, 144], [5, 5, 144, 1], 1),
  { kernel: 'BatchMatMul', a: [50176, 48], b: [48, 8] },
  { kernel: 'BatchMatMul', a: [50176, 8], b: [48, 8], transposeB: true },
  { kernel: 'BatchMatMul', a: [50176, 8], b: [50176, 48], transposeA: true },
  { kernel: 'BatchMatMul', a: [12544, 16], b: [16, 96] },
  { kernel: 'BatchMatMul', a: [12544, 16], b: [12544, 96], transposeA: true },
  { kernel: 'BatchMatMul', a: [3136, 24], b: [24, 144] },
  { kernel: 'BatchMatMul', a: [1024, 56], b: [56, 336] },
  { kernel: 'NetAugBatchNormTrain', x: [64, 28, 28, 48] },
  { kernel: 'NetAugBatchNormTrainGrad', x: [64, 28, 28, 48] },
  { kernel: 'NetAugBatchNormTrain', x: [64, 7, 7, 192] },
  { kernel: 'Relu6', x: [64, 28, 28, 48] },
  { kernel: 'NetAugRelu6Grad', x: [64, 28, 28, 48] },
  { kernel: 'Multiply', a: [1, 1, 2453, 146], b: [] },
  { kernel: 'Add', a: [1, 1, 2453, 146], b: [1, 1, 2453, 146] },
  { kernel: 'Slice', x: [1, 1, 2453, 146], begin: [0, 0, 0, 0], size: [1, 1, 146, 16] },
  {
    kernel: 'PadV2',
    x: [1, 1, 146, 16],
    paddings: [
      [0, 0],
      [0, 0],
      [0, 2307],
      [0, 130],
    ],
  },
];

function rand(shape, seed) {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = s / 2 ** 32 - 0.5;
  }
  return tf.tensor(v, shape, 'float32');
}

/** The kernel's inputs/attrs plus, for conv-like kernels, the gradient kernels of the same geometry. */
function expand(c) {
  if (c.xs == null) return [c];
  const depthwise = c.kernel.startsWith('Depthwise');
  const info = tf.backend_util.computeConv2DInfo(c.xs, c.fs, c.strides, 1, c.pad, undefined, depthwise);
  const base = { strides: c.strides, pad: c.pad, dilations: 1, dataFormat: 'NHWC' };
  const names = depthwise
    ? ['DepthwiseConv2dNative', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter']
    : ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'];
  return [
    { kernel: names[0], inputs: { x: c.xs, filter: c.fs }, attrs: base, geometry: [0, info, depthwise] },
    {
      kernel: names[1],
      inputs: { dy: info.outShape, filter: c.fs },
      attrs: { ...base, inputShape: c.xs },
      geometry: [1, info, depthwise],
    },
    {
      kernel: names[2],
      inputs: { x: c.xs, dy: info.outShape },
      attrs: { ...base, filterShape: c.fs },
      geometry: [2, info, depthwise],
    },
  ];
}

function spec(c) {
  if (c.inputs) return c;
  switch (c.kernel) {
    case 'BatchMatMul':
      return {
        kernel: c.kernel,
        inputs: { a: c.a, b: c.b },
        attrs: { transposeA: !!c.transposeA, transposeB: !!c.transposeB },
      };
    case 'NetAugBatchNormTrain': {
      const C = c.x[c.x.length - 1];
      return { kernel: c.kernel, inputs: { x: c.x, gamma: [C], beta: [C] }, attrs: { epsilon: 1e-5 } };
    }
    case 'NetAugBatchNormTrainGrad': {
      const C = c.x[c.x.length - 1];
      return {
        kernel: c.kernel,
        inputs: { dy: c.x, x: c.x, gamma: [C], mean: [C], variance: [C], dmean: [C], dvariance: [C] },
        attrs: { epsilon: 1e-5 },
        positive: ['variance'],
      };
    }
    case 'Relu6':
      return { kernel: c.kernel, inputs: { x: c.x }, attrs: {} };
    case 'NetAugRelu6Grad':
      return { kernel: c.kernel, inputs: { dy: c.x, x: c.x }, attrs: {} };
    case 'Multiply':
    case 'Add':
      return { kernel: c.kernel, inputs: { a: c.a, b: c.b }, attrs: {} };
    case 'Slice':
      return { kernel: c.kernel, inputs: { x: c.x }, attrs: { begin: c.begin, size: c.size } };
    case 'PadV2':
      return { kernel: c.kernel, inputs: { x: c.x }, attrs: { paddings: c.paddings, constantValue: 0 } };
  }
  throw new Error(c.kernel);
}

function timeKernel(backend, s, n) {
  if (tf.getKernel(s.kernel, backend) == null) return null;
  tf.setBackend(backend);
  const inputs = {};
  let seed = 1;
  for (const [k, shape] of Object.entries(s.inputs)) {
    inputs[k] = rand(shape, seed++);
    if (s.positive?.includes(k)) inputs[k] = tf.abs(inputs[k]);
  }
  const run = () => {
    const out = tf.engine().runKernel(s.kernel, inputs, s.attrs);
    for (const t of Array.isArray(out) ? out : [out]) t.dispose();
  };
  run();
  let best = Infinity;
  for (let r = 0; r < n; r++) {
    const t0 = performance.now();
    run();
    best = Math.min(best, performance.now() - t0);
  }
  for (const t of Object.values(inputs)) t.dispose();
  return +best.toFixed(3);
}

function timeAddon(s) {
  if (s.geometry == null) return {};
  const [mode, info, depthwise] = s.geometry;
  const addon = nativeAddon();
  const dims = convGeometry(info, depthwise);
  const size = (sh) => sh.reduce((a, b) => a * b, 1);
  const [a, b, out] =
    mode === 0
      ? [info.inShape, s.inputs.filter, info.outShape]
      : mode === 1
        ? [info.outShape, s.inputs.filter, info.inShape]
        : [info.inShape, info.outShape, s.attrs.filterShape];
  const A = new Float32Array(size(a)).fill(0.5);
  const B = new Float32Array(size(b)).fill(0.25);
  const O = new Float32Array(size(out));
  addon.conv(mode, A, B, O, dims);
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    addon.conv(mode, A, B, O, dims);
    best = Math.min(best, performance.now() - t0);
  }
  return { addonMs: +best.toFixed(3), impl: addon.convImpl(mode, dims) };
}

console.log(
  JSON.stringify({
    bench: 'kernels',
    ...info,
    kernels: undefined,
    cores: os.availableParallelism(),
    loadavg: os.loadavg().map((x) => +x.toFixed(2)),
    date: new Date().toISOString(),
  }),
);
for (const c of CASES) {
  for (const e of expand(c)) {
    const s = spec(e);
    if (filter && !s.kernel.includes(filter)) continue;
    const nativeMs = timeKernel('native', s, reps);
    const cpuMs = withCpu ? timeKernel('cpu', s, Math.min(reps, 2)) : undefined;
    const shapes = Object.fromEntries(Object.entries(s.inputs));
    console.log(
      JSON.stringify({
        kernel: s.kernel,
        shapes,
        attrs: s.attrs,
        nativeMs,
        ...timeAddon(s),
        cpuMs,
        speedup: cpuMs && nativeMs ? +(cpuMs / nativeMs).toFixed(1) : undefined,
      }),
    );
  }
}
