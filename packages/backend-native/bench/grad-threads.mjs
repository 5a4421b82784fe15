#!/usr/bin/env node
/**
 * Gradient of one real training batch at the same weights on native with 1 and 2 threads and on tfjs' cpu
 * backend: relative L2 distance of every pair (is a thread count less exact than another?).
 * Usage: node bench/grad-threads.mjs [warmSteps]
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '@netaug/backend';
import { nativeAddon } from '@netaug/backend-native';
import { createSupernet } from '@netaug/supernet';
import {
  trainStep,
  computeGradients,
  createOptimizer,
  baseline,
  labelSmoothing,
  ensureGradients,
} from '@netaug/trainer';
import { loadBuiltin } from '@netaug/data';
import { Rng } from '@netaug/core';

const warm = Number(process.argv[2] ?? 30);
await initBackend({ prefer: 'native' });
await ensureGradients();
nativeAddon().setThreads(1);
const B = Number(process.env.BATCH ?? 128);
const ds = await loadBuiltin('fashion-mnist', { split: 'train' });
async function batchAt(s) {
  const images = new Float32Array(B * 784);
  const labels = new Int32Array(B);
  for (let i = 0; i < B; i++) {
    const smp = await ds.get((s * B + i) % ds.size);
    for (let j = 0; j < 784; j++) images[i * 784 + j] = (smp.image[j] - 0.286) / 0.353;
    labels[i] = smp.label;
  }
  return { images, labels, shape: [B, 28, 28, 1] };
}
const net = createSupernet('mobilenetv2-tiny', {
  numClasses: 10,
  inputShape: [28, 28, 1],
  seed: 0,
  tinyOnly: true,
});
const opt = createOptimizer(
  { type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 4e-5 },
  net.variables().filter((v) => v.trainable),
);
const strategies = [baseline(), labelSmoothing(0.1)];
for (let s = 0; s < warm; s++)
  trainStep(
    { supernet: net, strategies, batch: await batchAt(s), epoch: 0, step: s, rng: new Rng(0) },
    opt,
    0.1,
  );
const batch = await batchAt(warm);
const snapshot = net.variables().map((v) => v.variable.clone());
function grads() {
  // restore the weights and running statistics, then one gradient
  net.variables().forEach((v, i) => v.variable.assign(snapshot[i]));
  return tf.tidy(() => {
    const { grads: g } = computeGradients({
      supernet: net,
      strategies,
      batch,
      epoch: 0,
      step: warm,
      rng: new Rng(0),
    });
    return Float64Array.from([...g.values()].flatMap((t) => Array.from(t.dataSync())));
  });
}
const g1 = grads();
nativeAddon().setThreads(2);
const g2 = grads();
await tf.setBackend('cpu');
const gc = grads();
const rel = (a, b) => {
  let n = 0;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    n += (a[i] - b[i]) ** 2;
    d += b[i] ** 2;
  }
  return Math.sqrt(n / d);
};
console.log(
  JSON.stringify({
    warmSteps: warm,
    params: g1.length,
    native1_vs_cpu: rel(g1, gc),
    native2_vs_cpu: rel(g2, gc),
    native1_vs_native2: rel(g1, g2),
  }),
);
