#!/usr/bin/env node
/**
 * Per-kernel profile of one training step (the `netaug bench step` step) on a backend: wall and process CPU
 * milliseconds per kernel (CPU time is steadier than wall time on a loaded machine; with NETAUG_THREADS=1 it
 * is the kernel's own cost). Usage: node bench/prof-step.mjs [native|cpu|wasm] [tiny|v2] [batch] [netaug]
 * Needs the packages built (npx nx run-many -t build).
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@netaug/backend';
import { createSupernet } from '@netaug/supernet';
import {
  trainStep,
  createOptimizer,
  baseline,
  netaug,
  labelSmoothing,
  ensureGradients,
} from '@netaug/trainer';
import { Rng } from '@netaug/core';

const [be = 'native', which = 'tiny', batchArg = '64', strat = 'baseline'] = process.argv.slice(2);
await initBackend({ prefer: be });
await ensureGradients();
const B = Number(batchArg);
const [model, H, C, width] =
  which === 'v2' ? ['mobilenetv2', 32, 3, 0.35] : ['mobilenetv2-tiny', 28, 1, undefined];
const net = createSupernet(model, {
  numClasses: 10,
  inputShape: [H, H, C],
  smallInput: true,
  width,
  tinyOnly: strat !== 'netaug',
});
const images = new Float32Array(B * H * H * C).map(() => Math.random());
const batch = { images, labels: Int32Array.from({ length: B }, (_, i) => i % 10), shape: [B, H, H, C] };
const opt = createOptimizer(
  { type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 4e-5 },
  net.variables().filter((v) => v.trainable),
);
const rng = new Rng(0);
const strategies =
  strat === 'netaug' ? [netaug({ epochs: 10 }), labelSmoothing(0.1)] : [baseline(), labelSmoothing(0.1)];
const step = (i) => trainStep({ supernet: net, strategies, batch, epoch: 0, step: i, rng }, opt, 0.01);

const stats = new Map();
let on = false;
for (const k of tf.getKernelsForBackend(be)) {
  const f = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, be);
  tf.registerKernel({
    ...k,
    kernelFunc: (args) => {
      if (!on) return f(args);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const r = f(args);
      const wall = performance.now() - t0;
      const c = process.cpuUsage(c0);
      const key = process.env.SHAPES
        ? `${k.kernelName} ${JSON.stringify(Object.values(args.inputs).map((t) => t.shape))}`
        : k.kernelName;
      const s = stats.get(key) ?? { wall: 0, cpu: 0, n: 0 };
      s.wall += wall;
      s.cpu += (c.user + c.system) / 1000;
      s.n++;
      stats.set(key, s);
      return r;
    },
  });
}
for (let i = 0; i < Number(process.env.WARM ?? 3); i++) step(i);
const steps = 3;
const c0 = process.cpuUsage();
const t0 = performance.now();
on = true;
for (let i = 0; i < steps; i++) step(3 + i);
on = false;
const wall = (performance.now() - t0) / steps;
const cu = process.cpuUsage(c0);
const rows = [...stats.entries()].sort((a, b) => b[1].wall - a[1].wall);
let kw = 0;
let kc = 0;
for (const [, s] of rows) {
  kw += s.wall;
  kc += s.cpu;
}
console.log(
  `${be} ${model} batch ${B} ${strat}: step wall ${wall.toFixed(0)} ms, cpu ${((cu.user + cu.system) / 1000 / steps).toFixed(0)} ms; ` +
    `in kernels wall ${(kw / steps).toFixed(0)} cpu ${(kc / steps).toFixed(0)}`,
);
for (const [k, s] of rows.slice(0, Number(process.env.TOP ?? 30)))
  console.log(
    k.slice(0, 90).padEnd(process.env.SHAPES ? 90 : 40),
    (s.wall / steps).toFixed(1).padStart(8),
    (s.cpu / steps).toFixed(1).padStart(8),
    String(s.n / steps).padStart(6),
  );
