/**
 * Shared by bench/divergence.mjs and bench/grad-threads.mjs: the fmnist-tiny preset's model (MobileNetV2-Tiny,
 * ImageNet form, 28×28×1, tiny-only weights, seed 0) with its Nesterov SGD, fixed Fashion-MNIST batches, and a
 * relative L2 distance. Import after the backend is initialised.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@netaug/core';
import { loadBuiltin } from '@netaug/data';
import { createSupernet } from '@netaug/supernet';
import { baseline, computeGradients, createOptimizer, labelSmoothing, trainStep } from '@netaug/trainer';

/** `batchAt(s)`: training images s·B … s·B + B − 1 (wrapping), normalised, as a trainer Batch. */
export async function fmnistBatches(B) {
  const ds = await loadBuiltin('fashion-mnist', { split: 'train' });
  return async (s) => {
    const images = new Float32Array(B * 784);
    const labels = new Int32Array(B);
    for (let i = 0; i < B; i++) {
      const smp = await ds.get((s * B + i) % ds.size);
      for (let j = 0; j < 784; j++) images[i * 784 + j] = (smp.image[j] - 0.286) / 0.353;
      labels[i] = smp.label;
    }
    return { images, labels, shape: [B, 28, 28, 1] };
  };
}

/** The model, its SGD optimizer and the baseline strategies (label smoothing 0.1). */
export function tinyBaseline() {
  const net = createSupernet('mobilenetv2-tiny', {
    numClasses: 10,
    inputShape: [28, 28, 1],
    seed: 0,
    tinyOnly: true,
  });
  const opt = createOptimizer(
    { type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 4e-5 },
    net.variables().filter((v) => v.trainable),
  );
  return { net, opt, strategies: [baseline(), labelSmoothing(0.1)] };
}

/** One SGD step (lr 0.1, the preset's) of `tinyBaseline()`'s model on `batch` as step `step`; the trainer's result. */
export function sgdStep({ net, opt, strategies }, batch, step) {
  return trainStep({ supernet: net, strategies, batch, epoch: 0, step, rng: new Rng(0) }, opt, 0.1);
}

/** `steps` SGD steps on batches 0 … steps − 1 (`batchAt` of {@link fmnistBatches}). */
export async function warmUp(model, batchAt, steps) {
  for (let s = 0; s < steps; s++) sgdStep(model, await batchAt(s), s);
}

/** The gradient of `batch` at the current weights (no update): variable name → float64 copy. */
export function gradientsAt({ net, strategies }, batch, step) {
  return tf.tidy(() => {
    const { grads } = computeGradients({ supernet: net, strategies, batch, epoch: 0, step, rng: new Rng(0) });
    return new Map([...grads].map(([k, t]) => [k, Float64Array.from(t.dataSync())]));
  });
}

/** ‖a − b‖ / ‖b‖. */
export function relL2(a, b) {
  let n = 0;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    n += (a[i] - b[i]) ** 2;
    d += b[i] ** 2;
  }
  return Math.sqrt(n / d);
}
