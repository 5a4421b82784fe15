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
import { ensureGradients } from '@netaug/trainer';
import { fmnistBatches, gradientsAt, relL2, tinyBaseline, warmUp } from './fmnist-tiny.mjs';

const warm = Number(process.argv[2] ?? 30);
await initBackend({ prefer: 'native' });
await ensureGradients();
nativeAddon().setThreads(1);
const batchAt = await fmnistBatches(Number(process.env.BATCH ?? 128));
const model = tinyBaseline();
const { net } = model;
await warmUp(model, batchAt, warm);
const batch = await batchAt(warm);
const snapshot = net.variables().map((v) => v.variable.clone());
function grads() {
  // restore the weights and running statistics, then one gradient
  net.variables().forEach((v, i) => v.variable.assign(snapshot[i]));
  return Float64Array.from([...gradientsAt(model, batch, warm).values()].flatMap((g) => Array.from(g)));
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
