#!/usr/bin/env node
/**
 * Fresh memory per NetAug training step on the native backend: bytes of new buffers (pool misses, counted by
 * wrapping Buffer.allocUnsafeSlow), pool hits/misses/evictions, step wall time. Fresh buffers cost page faults on
 * first write. Usage: node bench/pool-misses.mjs [batch] [steps]; NETAUG_NATIVE_POOL_MB sets the pool cap.
 */
import * as tf from '@tensorflow/tfjs-core';
import { nativeInfo } from '@netaug/backend-native';
import { setupStep } from './step-setup.mjs';

let fresh = 0;
const orig = Buffer.allocUnsafeSlow;
Buffer.allocUnsafeSlow = (n) => {
  fresh += n;
  return orig(n);
};
const B = Number(process.argv[2] ?? 64);
const steps = Number(process.argv[3] ?? 12);
const { step } = await setupStep('tiny', B, 'netaug');
const rows = [];
for (let i = 1; i <= steps; i++) {
  const p0 = { ...nativeInfo().pool };
  fresh = 0;
  const t0 = performance.now();
  step(i);
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
    arenaMB: Math.round(p.arena.bytes / 1e6),
    rssMB: Math.round(process.memoryUsage().rss / 1e6),
    tensors: tf.memory().numTensors,
  });
}
console.log(JSON.stringify(rows, null, 0).replaceAll('},{', '},\n{'));
