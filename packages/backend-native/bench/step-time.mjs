#!/usr/bin/env node
/**
 * Wall / user / system milliseconds per NetAug (or baseline) training step after a warm-up, peak RSS, and the
 * native buffer pool's counters. Usage: node bench/step-time.mjs [tiny|v2] [batch] [netaug|baseline] [warm] [steps]
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@netaug/backend';
import { createSupernet } from '@netaug/supernet';
import { trainStep, createOptimizer, baseline, netaug, labelSmoothing, ensureGradients } from '@netaug/trainer';
import { Rng } from '@netaug/core';
import { nativeInfo } from '@netaug/backend-native';

const [which = 'tiny', batchArg = '64', strat = 'netaug', warmArg = '10', stepsArg = '10'] = process.argv.slice(2);
await initBackend({ prefer: 'native' });
await ensureGradients();
const B = Number(batchArg);
const [model, H, C, width] = which === 'v2' ? ['mobilenetv2', 32, 3, 0.35] : ['mobilenetv2-tiny', 28, 1, undefined];
const net = createSupernet(model, { numClasses: 10, inputShape: [H, H, C], smallInput: true, width, seed: 1, tinyOnly: strat !== 'netaug' });
const rngData = new Rng(7);
const images = new Float32Array(B * H * H * C).map(() => rngData.uniform());
const batch = { images, labels: Int32Array.from({ length: B }, (_, i) => i % 10), shape: [B, H, H, C] };
const opt = createOptimizer({ type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 4e-5 }, net.variables().filter((v) => v.trainable));
const rng = new Rng(0);
const strategies = strat === 'netaug' ? [netaug({ epochs: 10 }), labelSmoothing(0.1)] : [baseline(), labelSmoothing(0.1)];
const step = (i) => trainStep({ supernet: net, strategies, batch, epoch: 0, step: i, rng }, opt, 0.01);
let rssPeak = 0;
const rows = [];
const n0 = tf.memory().numTensors;
for (let i = 0; i < Number(warmArg) + Number(stepsArg); i++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  step(i);
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  if (i >= Number(warmArg)) rows.push({ wall, user: c.user / 1000, sys: c.system / 1000 });
}
const med = (k) => rows.map((r) => r[k]).sort((a, b) => a - b)[rows.length >> 1];
const mean = (k) => rows.reduce((a, r) => a + r[k], 0) / rows.length;
const info = nativeInfo();
console.log(JSON.stringify({
  model, batch: B, strategy: strat, threads: info.threads,
  wallMedian: +med('wall').toFixed(1), wallMean: +mean('wall').toFixed(1), userMean: +mean('user').toFixed(1), sysMean: +mean('sys').toFixed(1),
  rssPeakGB: +(rssPeak / 1e9).toFixed(2), pool: info.pool, convPrimitives: info.convPrimitives, matmulPrimitives: info.matmulPrimitives, convCache: info.convCache, matmulCache: info.matmulCache,
  leaked: tf.memory().numTensors - n0,
}));
