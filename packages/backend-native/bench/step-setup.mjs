/**
 * The training step the step benchmarks time (step-time.mjs, pool-misses.mjs): the native backend, a supernet
 * (`tiny`: mobilenetv2-tiny 28×28×1; `v2`: mobilenetv2 w0.35 32×32×3; small-input form), one seeded batch, SGD.
 */
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

/** @returns {Promise<{ model: string, step: (i: number) => unknown }>} `step(i)` trains step `i` on the batch. */
export async function setupStep(which, B, strat) {
  await initBackend({ prefer: 'native' });
  await ensureGradients();
  const [model, H, C, width] =
    which === 'v2' ? ['mobilenetv2', 32, 3, 0.35] : ['mobilenetv2-tiny', 28, 1, undefined];
  const net = createSupernet(model, {
    numClasses: 10,
    inputShape: [H, H, C],
    smallInput: true,
    width,
    seed: 1,
    tinyOnly: strat !== 'netaug',
  });
  const rngData = new Rng(7);
  const images = new Float32Array(B * H * H * C).map(() => rngData.uniform());
  const batch = { images, labels: Int32Array.from({ length: B }, (_, i) => i % 10), shape: [B, H, H, C] };
  const opt = createOptimizer(
    { type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 4e-5 },
    net.variables().filter((v) => v.trainable),
  );
  const rng = new Rng(0);
  const strategies =
    strat === 'netaug' ? [netaug({ epochs: 10 }), labelSmoothing(0.1)] : [baseline(), labelSmoothing(0.1)];
  return {
    model,
    step: (i) => trainStep({ supernet: net, strategies, batch, epoch: 0, step: i, rng }, opt, 0.01),
  };
}
