#!/usr/bin/env node
/**
 * Where does a backend's training gradient depart from tfjs' cpu backend (the float32 reference), and is it a
 * kernel's fault? One gradient of the fmnist-tiny model on a real batch, three ways:
 *  - `layers`: per variable, ‖g_backend − g_cpu‖ / ‖g_cpu‖ of the end-to-end gradient, in network order;
 *  - `kernels`: every kernel call of the backend's gradient, recorded with its inputs and outputs, replayed on
 *    cpu with the same inputs — the local error of each kernel (NetAugRelu6Grad against its formula);
 *  - `inputsChanged`: kernel inputs whose contents changed between being produced and being read (aliasing).
 * Usage: node bench/replay.mjs <native|wasm> [step=0]   (step: SGD steps taken on cpu before the gradient)
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '@netaug/backend';
import { ensureGradients } from '@netaug/trainer';
import { fmnistBatches, gradientsAt, relL2, tinyBaseline, warmUp } from './fmnist-tiny.mjs';

const BE = process.argv[2] ?? 'native';
const warm = Number(process.argv[3] ?? 0);
await initBackend({ prefer: BE });
await ensureGradients();
const batchAt = await fmnistBatches(128);
const model = tinyBaseline();
await tf.setBackend('cpu');
await warmUp(model, batchAt, warm);
const batch = await batchAt(warm);
const grads = () => gradientsAt(model, batch, warm);
const gCpu = grads();

// record every kernel call of the backend's gradient
const calls = [];
const produced = new Map();
const inputsChanged = [];
let recording = false;
const wrapped = tf.getKernelsForBackend(BE);
for (const k of wrapped) {
  tf.unregisterKernel(k.kernelName, BE);
  tf.registerKernel({
    ...k,
    kernelFunc: (args) => {
      const out = k.kernelFunc(args);
      if (!recording) return out;
      const b = args.backend;
      const read = (t) => ({ shape: t.shape, dtype: t.dtype, data: b.readSync(t.dataId).slice() });
      const ins = {};
      for (const [n, t] of Object.entries(args.inputs)) {
        if (!t) continue;
        ins[n] = read(t);
        const p = produced.get(t.dataId);
        if (p && ins[n].data.some((v, j) => !Object.is(v, p.data[j])))
          inputsChanged.push({ call: calls.length, kernel: k.kernelName, input: n, producedBy: p.call });
      }
      const outs = (Array.isArray(out) ? out : [out]).map(read);
      outs.forEach((o, j) =>
        produced.set((Array.isArray(out) ? out : [out])[j].dataId, { call: calls.length, data: o.data }),
      );
      calls.push({ name: k.kernelName, attrs: args.attrs, ins, array: Array.isArray(args.inputs), outs });
      return out;
    },
  });
}
await tf.setBackend(BE);
recording = true;
const gBe = grads();
recording = false;
for (const k of wrapped) {
  tf.unregisterKernel(k.kernelName, BE);
  tf.registerKernel(k);
}
const layers = [...gCpu.keys()]
  .reverse()
  .map((k) => ({ variable: k, relL2: relL2(gBe.get(k), gCpu.get(k)) }));

// replay each call on cpu with the recorded inputs
await tf.setBackend('cpu');
const kernels = [];
for (const [i, c] of calls.entries()) {
  let err;
  if (c.name === 'NetAugRelu6Grad') {
    const { dy, x } = c.ins;
    const want = x.data.map((v, j) => (v > 0 && v <= 6 ? dy.data[j] : 0));
    err = relL2(Float64Array.from(c.outs[0].data), Float64Array.from(want));
  } else if (tf.getKernel(c.name, 'cpu') == null) {
    err = null;
  } else {
    err = tf.tidy(() => {
      let ins = Object.fromEntries(
        Object.entries(c.ins).map(([n, t]) => [n, tf.tensor(t.data, t.shape, t.dtype)]),
      );
      if (c.array) ins = Object.values(ins);
      const out = [tf.engine().runKernel(c.name, ins, c.attrs)].flat();
      const e = out.map((o, j) =>
        c.outs[j].dtype === 'float32'
          ? relL2(Float64Array.from(c.outs[j].data), Float64Array.from(o.dataSync()))
          : 0,
      );
      return Math.max(0, ...e.filter((v) => !Number.isNaN(v)));
    });
  }
  kernels.push({
    call: i,
    kernel: c.name,
    inputs: Object.values(c.ins).map((t) => t.shape.join('×')),
    relErr: err,
  });
}
const worst = kernels.filter((k) => k.relErr != null).sort((a, b) => b.relErr - a.relErr);
console.log(
  JSON.stringify(
    {
      backend: BE,
      afterSteps: warm,
      layers: layers.map((l) => `${l.variable} ${l.relL2.toExponential(1)}`),
      kernelCalls: calls.length,
      notReplayed: [...new Set(kernels.filter((k) => k.relErr == null).map((k) => k.kernel))],
      worstKernels: worst.slice(0, 8),
      medianKernelErr: worst[Math.floor(worst.length / 2)]?.relErr,
      inputsChanged,
    },
    null,
    1,
  ),
);
