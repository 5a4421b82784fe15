#!/usr/bin/env node
/**
 * Wall / user / system milliseconds per NetAug (or baseline) training step after a warm-up, peak RSS, and the
 * native buffer pool's counters. Usage: node bench/step-time.mjs [tiny|v2] [batch] [netaug|baseline] [warm] [steps]
 * Memory is sampled after every step: RSS, the bytes of all ArrayBuffers (live tensors, pooled free buffers and
 * garbage not yet collected), the live tensors' bytes (tf.memory().numBytes) and the pool's free bytes.
 * With `node --expose-gc` and env GC_EACH_STEP=1 a full garbage collection follows every step (inside the timed
 * wall time): what is then still allocated is referenced, not garbage.
 */
import * as tf from '@tensorflow/tfjs-core';
import { nativeInfo } from '@netaug/backend-native';
import { readFileSync } from 'node:fs';
import { setupStep } from './step-setup.mjs';

const [which = 'tiny', batchArg = '64', strat = 'netaug', warmArg = '10', stepsArg = '10'] = process.argv.slice(2);
const B = Number(batchArg);
const { model, step } = await setupStep(which, B, strat);
let rssPeak = 0;
const peak = { arrayBuffers: 0, tensors: 0, pooled: 0 };
const rows = [];
const n0 = tf.memory().numTensors;
for (let i = 0; i < Number(warmArg) + Number(stepsArg); i++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  step(i);
  if (process.env.GC_EACH_STEP && globalThis.gc) globalThis.gc(); // (node --expose-gc) what V8 leaves uncollected
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const mu = process.memoryUsage();
  rssPeak = Math.max(rssPeak, mu.rss);
  peak.arrayBuffers = Math.max(peak.arrayBuffers, mu.arrayBuffers);
  peak.tensors = Math.max(peak.tensors, tf.memory().numBytes);
  peak.pooled = Math.max(peak.pooled, nativeInfo().pool.bytes);
  if (i >= Number(warmArg)) rows.push({ wall, user: c.user / 1000, sys: c.system / 1000 });
}
const med = (k) => rows.map((r) => r[k]).sort((a, b) => a - b)[rows.length >> 1];
const mean = (k) => rows.reduce((a, r) => a + r[k], 0) / rows.length;
const info = nativeInfo();
// the kernel's high-water mark of the process's resident memory (includes peaks inside a step)
const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;
console.log(JSON.stringify({
  model, batch: B, strategy: strat, threads: info.threads,
  wallMedian: +med('wall').toFixed(1), wallMean: +mean('wall').toFixed(1), userMean: +mean('user').toFixed(1), sysMean: +mean('sys').toFixed(1),
  rssPeakGB: +(rssPeak / 1e9).toFixed(2), vmHwmGB: +(hwm / 1e9).toFixed(2), arrayBuffersPeakGB: +(peak.arrayBuffers / 1e9).toFixed(2), tensorsPeakGB: +(peak.tensors / 1e9).toFixed(2), pooledPeakGB: +(peak.pooled / 1e9).toFixed(2), pool: info.pool, convPrimitives: info.convPrimitives, matmulPrimitives: info.matmulPrimitives, convCache: info.convCache, matmulCache: info.matmulCache,
  leaked: tf.memory().numTensors - n0,
}));
