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
import { trainStep, computeGradients, ensureGradients } from '@netaug/trainer';
import { Rng } from '@netaug/core';
import { fmnistBatches, relL2, tinyBaseline } from './fmnist-tiny.mjs';

const warm = Number(process.argv[2] ?? 30);
await initBackend({ prefer: 'native' });
await ensureGradients();
nativeAddon().setThreads(1);
const batchAt = await fmnistBatches(Number(process.env.BATCH ?? 128));
const { net, opt, strategies } = tinyBaseline();
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
console.log(
  JSON.stringify({
    warmSteps: warm,
    params: g1.length,
    native1_vs_cpu: relL2(g1, gc),
    native2_vs_cpu: relL2(g2, gc),
    native1_vs_native2: relL2(g1, g2),
  }),
);
