#!/usr/bin/env node
/**
 * End-to-end training step of MobileNetV2-w0.35 (32×32×3 input, batch 64 by default, batch-norm from
 * tf.moments, relu6, softmax cross-entropy, SGD) written with tfjs ops, on the backend initBackend picks
 * (or --backend wasm|cpu). Prints JSON: median step ms and, with --profile, the 12 most expensive kernels.
 * Run after `npx nx build @netaug/backend`:  node packages/backend/bench/train-step.mjs [--batch 64] [--steps 3] [--profile]
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs-core');
const { initBackend, describeBackend } = require('../dist/index.js');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const B = Number(opt('batch', 64));
const STEPS = Number(opt('steps', 3));
const backendName = opt('backend', undefined);

await initBackend(backendName ? { prefer: backendName } : {});
if (tf.getBackend() === 'cpu') tf.backend().firstUse = false;

const div8 = (v) => Math.max(8, Math.floor((v + 4) / 8) * 8);
const W = 0.35;
const params = [];
const vars = {};
let seed = 1;
function variable(name, shape, scale) {
  const v = tf.variable(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed++), scale), true, name);
  vars[name] = v;
  params.push(v);
  return v;
}
const bnVars = (n, c) => {
  vars[`${n}_g`] = tf.variable(tf.ones([c]), true, `${n}_g`);
  vars[`${n}_b`] = tf.variable(tf.zeros([c]), true, `${n}_b`);
  params.push(vars[`${n}_g`], vars[`${n}_b`]);
};
const layers = [];
const stemC = div8(32 * W);
variable('stem', [3, 3, 3, stemC], Math.sqrt(2 / 27));
bnVars('stem_bn', stemC);
let cin = stemC;
let bi = 0;
for (const [t, c, n, s] of [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
]) {
  const cout = div8(c * W);
  for (let i = 0; i < n; i++) {
    const stride = i === 0 ? s : 1;
    const hidden = cin * t;
    const p = `b${bi++}`;
    if (t !== 1) {
      variable(`${p}_exp`, [1, 1, cin, hidden], Math.sqrt(2 / cin));
      bnVars(`${p}_bn0`, hidden);
    }
    variable(`${p}_dw`, [3, 3, hidden, 1], Math.sqrt(2 / 9));
    bnVars(`${p}_bn1`, hidden);
    variable(`${p}_pw`, [1, 1, hidden, cout], Math.sqrt(1 / hidden));
    bnVars(`${p}_bn2`, cout);
    layers.push({ p, t, stride, res: stride === 1 && cin === cout });
    cin = cout;
  }
}
variable('last', [1, 1, cin, 1280], Math.sqrt(2 / cin));
bnVars('last_bn', 1280);
variable('fc_w', [1280, 10], Math.sqrt(1 / 1280));
vars.fc_b = tf.variable(tf.zeros([10]), true, 'fc_b');
params.push(vars.fc_b);

const bn = (x, n) => {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.add(
    tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), vars[`${n}_g`]),
    vars[`${n}_b`],
  );
};
function forward(x) {
  let h = tf.relu6(bn(tf.conv2d(x, vars.stem, 2, 'same'), 'stem_bn'));
  for (const { p, t, stride, res } of layers) {
    let y = h;
    if (t !== 1) y = tf.relu6(bn(tf.conv2d(y, vars[`${p}_exp`], 1, 'same'), `${p}_bn0`));
    y = tf.relu6(bn(tf.depthwiseConv2d(y, vars[`${p}_dw`], stride, 'same'), `${p}_bn1`));
    y = bn(tf.conv2d(y, vars[`${p}_pw`], 1, 'same'), `${p}_bn2`);
    h = res ? tf.add(h, y) : y;
  }
  h = tf.relu6(bn(tf.conv2d(h, vars.last, 1, 'same'), 'last_bn'));
  return tf.add(tf.matMul(tf.mean(h, [1, 2]), vars.fc_w), vars.fc_b);
}

const x = tf.randomNormal([B, 32, 32, 3], 0, 1, 'float32', 99);
const y = tf.oneHot(
  tf.tensor1d(
    Array.from({ length: B }, (_, i) => i % 10),
    'int32',
  ),
  10,
);
const optimizer = tf.train.sgd(0.01);
const step = () =>
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, forward(x)), params);
    optimizer.applyGradients(grads);
    return value;
  });

step().dispose(); // warm-up (JIT, XNNPACK operators)
const times = [];
for (let i = 0; i < STEPS; i++) {
  const t0 = performance.now();
  const l = step();
  l.dataSync();
  times.push(performance.now() - t0);
  l.dispose();
}
times.sort((a, b) => a - b);
const nParams = params.reduce((s, p) => s + p.size, 0);
const out = {
  backend: describeBackend(),
  batch: B,
  params: nParams,
  stepMs: +times[Math.floor(times.length / 2)].toFixed(0),
  steps: STEPS,
};
if (args.includes('--profile')) {
  const prof = await tf.profile(() => step());
  const byKernel = {};
  for (const k of prof.kernels) byKernel[k.name] = (byKernel[k.name] ?? 0) + k.kernelTimeMs;
  const total = Object.values(byKernel).reduce((a, b) => a + b, 0);
  out.kernelMsTotal = +total.toFixed(0);
  out.topKernels = Object.entries(byKernel)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([name, ms]) => ({ name, ms: +ms.toFixed(1), pct: +((100 * ms) / total).toFixed(1) }));
  if (args.includes('--calls')) {
    out.slowestCalls = prof.kernels
      .filter((k) => /Backprop/.test(k.name))
      .sort((a, b) => b.kernelTimeMs - a.kernelTimeMs)
      .slice(0, 15)
      .map((k) => ({ name: k.name, ms: +k.kernelTimeMs.toFixed(2), inputShapes: k.inputShapes }));
  }
}
console.log(JSON.stringify(out));
