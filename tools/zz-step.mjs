import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@netaug/backend';
import { createSupernet } from '@netaug/supernet';
import { trainStep, createOptimizer, netaug, baseline, labelSmoothing } from '@netaug/trainer';
import { Rng } from '@netaug/core';
const r = await initBackend({});
console.log(r.name, r.reason);
const small = process.argv[2] === 'small';
const net = createSupernet('mobilenetv2-tiny', { numClasses: 10, inputShape: small ? [28, 28, 1] : [32,32,1], smallInput: small });
const B = Number(process.argv[3] ?? 128);
const batch = { images: new Float32Array(B * 28 * 28).map(() => Math.random()), labels: Int32Array.from({ length: B }, (_, i) => i % 10), shape: [B, 28, 28, 1] };
if (!small) { batch.images = new Float32Array(B*32*32).map(()=>Math.random()); batch.shape=[B,32,32,1]; }
const opt = createOptimizer({ type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 4e-5 }, net.variables().filter(v=>v.trainable));
const rng = new Rng(0);
for (const strat of [[baseline(), labelSmoothing(0.1)], [netaug({ epochs: 10 }), labelSmoothing(0.1)]]) {
  const ts = [];
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    trainStep({ supernet: net, strategies: strat, batch, epoch: 0, step: i, rng }, opt, 0.01);
    ts.push(performance.now() - t0);
  }
  console.log(strat[0].name, ts.map(t => t.toFixed(0)).join(' '), 'tensors', tf.memory().numTensors);
}
