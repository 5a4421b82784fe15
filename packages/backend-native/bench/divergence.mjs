#!/usr/bin/env node
/**
 * How far two backends' training runs drift apart: the same model, weights, Fashion-MNIST batches and SGD
 * steps on one backend, printing the loss of every step and writing the final weights.
 * Usage: node bench/divergence.mjs <native|wasm|cpu> <steps> <out.json>, then
 * node bench/divergence.mjs compare a.json b.json. NETAUG_UNFUSED=1 unregisters the fused kernels first.
 * (The fmnist-tiny preset's model: MobileNetV2-Tiny, ImageNet form, 28×28×1, batch 128, lr 0.1, Nesterov SGD.)
 */
import * as fs from 'node:fs';
const [mode, a, b] = process.argv.slice(2);

if (mode === 'compare') {
  const [x, y] = [a, b].map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
  const rows = [];
  for (const s of [0, 1, 2, 4, 9, 19, 49, 99, 199, 299, 399, 468].filter((i) => i < x.losses.length)) {
    rows.push({
      step: s + 1,
      lossA: x.losses[s],
      lossB: y.losses[s],
      relDiff: Math.abs(x.losses[s] - y.losses[s]) / x.losses[s],
    });
  }
  const wa = Float32Array.from(x.weights);
  const wb = Float32Array.from(y.weights);
  let num = 0;
  let den = 0;
  for (let i = 0; i < wa.length; i++) {
    num += (wa[i] - wb[i]) ** 2;
    den += wa[i] ** 2;
  }
  console.log(
    JSON.stringify(
      {
        a: x.backend,
        b: y.backend,
        steps: x.losses.length,
        perStep: rows,
        weightsRelL2: Math.sqrt(num / den),
      },
      null,
      1,
    ),
  );
  process.exit(0);
}

const tf = await import('@tensorflow/tfjs-core');
const { initBackend } = await import('@netaug/backend');
const { createSupernet } = await import('@netaug/supernet');
const { trainStep, createOptimizer, baseline, labelSmoothing, ensureGradients } =
  await import('@netaug/trainer');
const { loadBuiltin } = await import('@netaug/data');
const { Rng } = await import('@netaug/core');
await initBackend({ prefer: mode });
await ensureGradients();
// NETAUG_UNFUSED=1: without the fused batch-norm + activation and SGD kernels (same maths as separate ops)
if (process.env.NETAUG_UNFUSED === '1')
  for (const k of ['NetAugBatchNormActTrain', 'NetAugSgdUpdate']) tf.unregisterKernel(k, tf.getBackend());
const steps = Number(a);
const B = 128;
const ds = await loadBuiltin('fashion-mnist', { split: 'train' });
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
const losses = [];
for (let s = 0; s < steps; s++) {
  const images = new Float32Array(B * 784);
  const labels = new Int32Array(B);
  for (let i = 0; i < B; i++) {
    const smp = await ds.get((s * B + i) % ds.size);
    for (let j = 0; j < 784; j++) images[i * 784 + j] = (smp.image[j] - 0.286) / 0.353;
    labels[i] = smp.label;
  }
  const r = trainStep(
    {
      supernet: net,
      strategies: [baseline(), labelSmoothing(0.1)],
      batch: { images, labels, shape: [B, 28, 28, 1] },
      epoch: 0,
      step: s,
      rng: new Rng(0),
    },
    opt,
    0.1,
  );
  losses.push(r.loss);
}
const weights = net.variables().flatMap((v) => Array.from(v.variable.dataSync()));
fs.writeFileSync(b, JSON.stringify({ backend: tf.getBackend(), losses, weights }));
console.log(tf.getBackend(), 'done', losses.slice(0, 3), losses.at(-1));
