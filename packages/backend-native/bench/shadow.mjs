#!/usr/bin/env node
/**
 * One-step error along a training trajectory: follows the run on backend `follow` and, at every step, also
 * takes that step from the same weights, momentum and running statistics on backend `other` (and every
 * `cpuEvery` steps on tfjs' cpu backend, the float32 reference). Prints per-step the relative L2 distance of
 * the two updates (‖Δa − Δb‖ / ‖Δb‖ over all variables) — a kernel that is wrong in some states shows up as
 * an outlier, a backend that computes something else as a level above float32 rounding.
 * A backend is `native:<threads>`, `wasm` or `cpu`.
 * Usage: node bench/shadow.mjs [steps=469] [follow=native:2] [other=native:1] [cpuEvery=0]
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '@netaug/backend';
import { nativeAddon } from '@netaug/backend-native';
import { ensureGradients } from '@netaug/trainer';
import { fmnistBatches, sgdStep, tinyBaseline } from './fmnist-tiny.mjs';

const arg = (i, d) => process.argv[2 + i] ?? d;
const [steps, follow, other, cpuEvery] = [
  Number(arg(0, 469)),
  arg(1, 'native:2'),
  arg(2, 'native:1'),
  Number(arg(3, 0)),
];
for (const b of new Set([follow, other].map((x) => x.split(':')[0]))) {
  await initBackend({ prefer: b });
  await ensureGradients();
}
const batchAt = await fmnistBatches(128);
const model = tinyBaseline();
const { net, opt } = model;
const vars = net.variables();

const read = () => vars.map((v) => new Float32Array(v.variable.dataSync()));
const restore = (w, st) => {
  tf.tidy(() => vars.forEach((v, i) => v.variable.assign(tf.tensor(w[i], v.variable.shape))));
  opt.setState(st);
};
function step(s, batch, spec) {
  const [backend, threads] = spec.split(':');
  if (tf.getBackend() !== backend) tf.setBackend(backend);
  if (threads) nativeAddon().setThreads(Number(threads));
  const r = sgdStep(model, batch, s);
  return { loss: r.loss, w: read() };
}
/** The variables whose updates differ most (relative to their own update), for `DETAIL=1`. */
function worstVars(w0, a, b) {
  return vars
    .map((v, i) => {
      let n = 0;
      let d = 0;
      for (let j = 0; j < w0[i].length; j++) {
        n += (a[i][j] - b[i][j]) ** 2;
        d += (b[i][j] - w0[i][j]) ** 2;
      }
      return { name: v.name, rel: Math.sqrt(n / d), abs: Math.sqrt(n) };
    })
    .sort((x, y) => y.abs - x.abs)
    .slice(0, 4);
}
function updDist(w0, a, b) {
  let n = 0;
  let d = 0;
  for (let i = 0; i < w0.length; i++)
    for (let j = 0; j < w0[i].length; j++) {
      const da = a[i][j] - w0[i][j];
      const db = b[i][j] - w0[i][j];
      n += (da - db) ** 2;
      d += db ** 2;
    }
  return Math.sqrt(n / d);
}
const rows = [];
const tensors0 = tf.memory().numTensors;
for (let s = 0; s < steps; s++) {
  const batch = await batchAt(s);
  const w0 = read();
  const st0 = opt.getState();
  const o = step(s, batch, other);
  let cpu;
  if (cpuEvery > 0 && s % cpuEvery === 0) {
    restore(w0, st0);
    cpu = step(s, batch, 'cpu');
  }
  restore(w0, st0);
  const f = step(s, batch, follow);
  const row = { step: s + 1, loss: f.loss, lossDiff: Math.abs(f.loss - o.loss), upd: updDist(w0, f.w, o.w) };
  if (cpu)
    Object.assign(row, { updFollowCpu: updDist(w0, f.w, cpu.w), updOtherCpu: updDist(w0, o.w, cpu.w) });
  if (process.env.DETAIL === '1') row.worstVars = worstVars(w0, f.w, o.w);
  rows.push(row);
  if (process.env.DETAIL === '1' || s % 25 === 0 || row.upd > 1e-4) console.error(JSON.stringify(row));
}
const u = rows.map((r) => r.upd).sort((a, b) => a - b);
console.log(
  JSON.stringify({
    follow,
    other,
    steps,
    updMedian: u[Math.floor(u.length / 2)],
    updMax: u.at(-1),
    worst: [...rows].sort((a, b) => b.upd - a.upd).slice(0, 5),
    leakedTensors: tf.memory().numTensors - tensors0,
  }),
);
