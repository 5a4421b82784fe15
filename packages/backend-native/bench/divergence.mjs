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
  const { relL2 } = await import('./fmnist-tiny.mjs');
  console.log(
    JSON.stringify(
      {
        a: x.backend,
        b: y.backend,
        steps: x.losses.length,
        perStep: rows,
        weightsRelL2: relL2(Float32Array.from(y.weights), Float32Array.from(x.weights)),
      },
      null,
      1,
    ),
  );
  process.exit(0);
}

const tf = await import('@tensorflow/tfjs-core');
const { initBackend } = await import('@netaug/backend');
const { ensureGradients } = await import('@netaug/trainer');
await initBackend({ prefer: mode });
await ensureGradients();
// NETAUG_UNFUSED=1: without the fused batch-norm + activation and SGD kernels (same maths as separate ops)
if (process.env.NETAUG_UNFUSED === '1')
  for (const k of ['NetAugBatchNormActTrain', 'NetAugSgdUpdate']) tf.unregisterKernel(k, tf.getBackend());
const { fmnistBatches, sgdStep, tinyBaseline } = await import('./fmnist-tiny.mjs');
const steps = Number(a);
const batchAt = await fmnistBatches(128);
const model = tinyBaseline();
const losses = [];
for (let s = 0; s < steps; s++) {
  const batch = await batchAt(s);
  const r = sgdStep(model, batch, s);
  losses.push(r.loss);
}
const weights = model.net.variables().flatMap((v) => Array.from(v.variable.dataSync()));
fs.writeFileSync(b, JSON.stringify({ backend: tf.getBackend(), losses, weights }));
console.log(tf.getBackend(), 'done', losses.slice(0, 3), losses.at(-1));
