#!/usr/bin/env node
/**
 * Fresh memory per NetAug training step on the native backend: bytes of new buffers (pool misses, counted by
 * wrapping Buffer.allocUnsafeSlow), pool hits/misses/evictions, step wall time. Fresh buffers cost page faults on
 * first write. Usage: node bench/pool-misses.mjs [batch] [steps]; NETAUG_NATIVE_POOL_MB sets the pool cap.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@netaug/backend';
import { createSupernet } from '@netaug/supernet';
import { trainStep, createOptimizer, netaug, labelSmoothing, ensureGradients } from '@netaug/trainer';
import { Rng } from '@netaug/core';
import { nativeInfo } from '@netaug/backend-native';

let fresh = 0;
const orig = Buffer.allocUnsafeSlow;
Buffer.allocUnsafeSlow = (n) => {
  fresh += n;
  return orig(n);
};
await initBackend({ prefer: 'native' });
await ensureGradients();
const B = Number(process.argv[2] ?? 64);
const steps = Number(process.argv[3] ?? 12);
const H = 28;
const net = createSupernet('mobilenetv2-tiny', {
  numClasses: 10,
  inputShape: [H, H, 1],
  smallInput: true,
  seed: 1,
});
const rng0 = new Rng(7);
const batch = {
  images: new Float32Array(B * H * H).map(() => rng0.uniform()),
  labels: Int32Array.from({ length: B }, (_, i) => i % 10),
  shape: [B, H, H, 1],
};
const opt = createOptimizer(
  { type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 4e-5 },
  net.variables().filter((v) => v.trainable),
);
const rng = new Rng(0);
const strategies = [netaug({ epochs: 10 }), labelSmoothing(0.1)];
const rows = [];
for (let i = 1; i <= steps; i++) {
  const p0 = { ...nativeInfo().pool };
  fresh = 0;
  const t0 = performance.now();
  trainStep({ supernet: net, strategies, batch, epoch: 0, step: i, rng }, opt, 0.01);
  const ms = performance.now() - t0;
  const p = nativeInfo().pool;
  rows.push({
    step: i,
    ms: Math.round(ms),
    freshMB: Math.round(fresh / 1e6),
    hits: p.hits - p0.hits,
    misses: p.misses - p0.misses,
    evictions: p.evictions - p0.evictions,
    pooledMB: Math.round(p.bytes / 1e6),
    arenaMB: Math.round((p.arena?.bytes ?? 0) / 1e6),
    rssMB: Math.round(process.memoryUsage().rss / 1e6),
    tensors: tf.memory().numTensors,
  });
}
console.log(JSON.stringify(rows, null, 0).replaceAll('},{', '},\n{'));
