#!/usr/bin/env node
/**
 * Micro-benchmark of the wasm gradient kernels of @netaug/backend.
 * Run after `npx nx build @netaug/backend`:
 *   node packages/backend/bench/kernels.mjs [--reps 7] [--batch 64] [--no-cpu]
 * Prints one JSON line per kernel and shape with median milliseconds of
 *   wasmMs    — this package's kernel on the wasm backend (what training uses),
 *   baseMs    — the "before": a straightforward JS loop (bench/naive-kernels.mjs) on the same data, or for
 *               Conv2DBackpropInput the wasm backend's own C++ kernel that this package wraps,
 *   cpuMs     — the tfjs cpu backend's kernel (1 run unless --cpu-reps; it takes seconds),
 * and the speed-ups. Shapes are those of MobileNetV2-w0.35 on 32×32×3 inputs, batch 64.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import path from 'node:path';

const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const wasm = require('@tensorflow/tfjs-backend-wasm');
const { registerWasmGradientKernels } = require('../dist/index.js');
const naive = await import('./naive-kernels.mjs');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const REPS = opt('reps', 7);
const CPU_REPS = opt('cpu-reps', 1);
const B = opt('batch', 64);
const withCpu = !args.includes('--no-cpu');

wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep);
const nativeConv2DBackpropInput = tf.getKernel('Conv2DBackpropInput', 'wasm').kernelFunc; // before wrapping
registerWasmGradientKernels();

// [kernel, xShape [N,H,W,C], k, stride, outC (conv only), pad]
const CASES = [
  ['Conv2DBackpropFilter', [B, 32, 32, 3], 3, 2, 16, 'same'], // stem
  ['Conv2DBackpropFilter', [B, 16, 16, 16], 1, 1, 8, 'same'], // project
  ['Conv2DBackpropFilter', [B, 16, 16, 8], 1, 1, 48, 'same'], // expand
  ['Conv2DBackpropFilter', [B, 8, 8, 48], 1, 1, 16, 'same'],
  ['Conv2DBackpropFilter', [B, 4, 4, 24], 1, 1, 144, 'same'],
  ['Conv2DBackpropFilter', [B, 2, 2, 112], 1, 1, 1280, 'same'], // last conv
  ['Conv2DBackpropFilter', [B, 16, 16, 16], 3, 1, 16, 'same'], // full 3×3 (not in MobileNetV2; im2col path)
  ['DepthwiseConv2dNativeBackpropFilter', [B, 16, 16, 16], 3, 1, 0, 'same'],
  ['DepthwiseConv2dNativeBackpropFilter', [B, 16, 16, 48], 3, 2, 0, 'same'],
  ['DepthwiseConv2dNativeBackpropFilter', [B, 8, 8, 96], 3, 1, 0, 'same'],
  ['DepthwiseConv2dNativeBackpropFilter', [B, 8, 8, 96], 5, 1, 0, 'same'],
  ['DepthwiseConv2dNativeBackpropFilter', [B, 8, 8, 96], 7, 2, 0, 'same'],
  ['DepthwiseConv2dNativeBackpropInput', [B, 16, 16, 16], 3, 1, 0, 'same'],
  ['DepthwiseConv2dNativeBackpropInput', [B, 16, 16, 48], 3, 2, 0, 'same'],
  ['DepthwiseConv2dNativeBackpropInput', [B, 8, 8, 96], 3, 1, 0, 'same'],
  ['DepthwiseConv2dNativeBackpropInput', [B, 8, 8, 96], 5, 1, 0, 'same'],
  ['DepthwiseConv2dNativeBackpropInput', [B, 8, 8, 96], 7, 2, 0, 'same'],
  // for reference: a kernel tfjs-backend-wasm ships (C++), same role as DepthwiseConv2dNativeBackpropInput
  ['Conv2DBackpropInput', [B, 16, 16, 16], 1, 1, 8, 'same'],
  ['Conv2DBackpropInput', [B, 16, 16, 8], 1, 1, 48, 'same'],
];

function outSize(n, k, s, pad) {
  return pad === 'same' ? Math.ceil(n / s) : Math.ceil((n - k + 1) / s);
}

function geometry(xShape, k, s, pad, outC) {
  const [N, H, W, C] = xShape;
  const OH = outSize(H, k, s, pad);
  const OW = outSize(W, k, s, pad);
  const alongH = pad === 'same' ? Math.max((OH - 1) * s + k - H, 0) : 0;
  const alongW = pad === 'same' ? Math.max((OW - 1) * s + k - W, 0) : 0;
  return {
    N,
    H,
    W,
    C,
    OH,
    OW,
    KH: k,
    KW: k,
    SH: s,
    SW: s,
    top: alongH >> 1,
    left: alongW >> 1,
    CO: outC || C,
  };
}

/** Inputs and attributes of one case; `naive` runs the baseline on plain arrays. */
function makeCase(kernel, xShape, k, s, outC, pad) {
  const g = geometry(xShape, k, s, pad, outC);
  const x = tf.randomNormal(xShape);
  const dy = tf.randomNormal([g.N, g.OH, g.OW, g.CO]);
  const filter = tf.randomNormal([k, k, g.C, outC || 1]);
  const xd = x.dataSync().slice();
  const dyd = dy.dataSync().slice();
  const fd = filter.dataSync().slice();
  const conv = { strides: [s, s], pad, dataFormat: 'NHWC' };
  const dwc = { strides: [s, s], dilations: [1, 1], pad };
  const c = {
    Conv2DBackpropFilter: {
      inputs: { x, dy },
      attrs: { ...conv, filterShape: [k, k, g.C, outC] },
      naive: () => naive.conv2dBackpropFilterNaive(xd, dyd, g),
    },
    Conv2DBackpropInput: { inputs: { dy, filter }, attrs: { ...conv, inputShape: xShape }, naive: null },
    DepthwiseConv2dNativeBackpropFilter: {
      inputs: { x, dy },
      attrs: { ...dwc, filterShape: [k, k, g.C, 1] },
      naive: () => naive.depthwiseBackpropFilterNaive(xd, dyd, g),
    },
    DepthwiseConv2dNativeBackpropInput: {
      inputs: { dy, filter },
      attrs: { ...dwc, inputShape: xShape },
      naive: () => naive.depthwiseBackpropInputNaive(dyd, fd, g),
    },
  }[kernel];
  return { ...c, dispose: () => tf.dispose([x, dy, filter]) };
}

function median(f, reps, warmup = true) {
  if (warmup) for (let i = 0; i < 3; i++) f(); // let the JIT optimise the JS loops
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Runs the registered kernel and reads the result back (wasm kernels are synchronous). */
const runKernel = (kernel, c) => () => {
  const out = tf.engine().runKernel(kernel, c.inputs, c.attrs);
  out.dataSync();
  out.dispose();
};

/** Runs the wasm backend's own C++ Conv2DBackpropInput (the kernel this package wraps). */
const runNativeConv2DBackpropInput = (c) => () => {
  const backend = tf.backend();
  const out = nativeConv2DBackpropInput({ inputs: c.inputs, backend, attrs: c.attrs });
  backend.readSync(out.dataId);
  backend.disposeData(out.dataId);
};

const round = (v) => (v == null ? null : +v.toFixed(2));

for (const [kernel, xShape, k, s, outC, pad] of CASES) {
  await tf.setBackend('wasm');
  await tf.ready();
  const c = makeCase(kernel, xShape, k, s, outC, pad);
  const wasmMs = median(runKernel(kernel, c), REPS);
  const baseMs = c.naive ? median(c.naive, Math.min(REPS, 5)) : median(runNativeConv2DBackpropInput(c), REPS);
  c.dispose();
  let cpuMs = null;
  if (withCpu) {
    await tf.setBackend('cpu');
    tf.backend().firstUse = false; // no "install tfjs-node" banner on stderr
    const cc = makeCase(kernel, xShape, k, s, outC, pad);
    cpuMs = median(runKernel(kernel, cc), CPU_REPS, false);
    cc.dispose();
  }
  const line = {
    kernel,
    x: xShape,
    k,
    stride: s,
    ...(outC ? { outC } : {}),
    pad,
    wasmMs: round(wasmMs),
    baseMs: round(baseMs),
    base: c.naive ? 'naive JS' : 'tfjs-backend-wasm C++',
    cpuMs: round(cpuMs),
    speedupVsBase: +(baseMs / wasmMs).toFixed(1),
    speedupVsCpu: cpuMs == null ? null : +(cpuMs / wasmMs).toFixed(1),
  };
  console.log(JSON.stringify(line));
}
