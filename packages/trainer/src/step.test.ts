import * as tf from '@tensorflow/tfjs-core';
import { Rng, type ActiveConfig, type Batch } from '@netaug/core';
import { createAugmentationScheduler } from '@netaug/schedulers';
import { crossEntropy } from './losses';
import { createOptimizer } from './optimizers';
import { computeGradients, trainStep } from './step';
import { distillation, labelSmoothing, netaug } from './strategies';
import { setup, tidyValue, useCpu, values } from './test-utils';
import { TinySupernet } from './testing/tiny-supernet';

beforeAll(useCpu);

async function firstBatch(loader: AsyncIterable<Batch>): Promise<Batch> {
  for await (const b of loader) return b;
  throw new Error('empty loader');
}

/** Gradients of `criterion(forward(config))` alone, by variable name. */
function gradsOf(
  net: TinySupernet,
  batch: Batch,
  config: 'min' | ActiveConfig,
  eps: number,
): Map<string, Float32Array> {
  return tidyValue(() => {
    const named = net.variables().filter((v) => v.trainable);
    const x = tf.tensor4d(batch.images, batch.shape);
    const y = tf.tensor1d(batch.labels, 'int32');
    const { grads } = tf.variableGrads(
      () => {
        net.setActive(config);
        return crossEntropy(net.forward(x, { training: true }), y, eps);
      },
      named.map((v) => v.variable),
    );
    return new Map(named.map((v) => [v.name, values(grads[v.variable.name])]));
  });
}

describe('NetAug step', () => {
  // the scheduler samples from a subset of the supernet's space, so the augmented model is never the largest one
  const scheduler = createAugmentationScheduler({
    epochs: 4,
    widthMults: [1, 1.8],
    expandFactors: [1, 1.6],
    alpha: 0.7,
  });

  it('gradient = grad L(tiny) + α·grad L(aug) for the same sampled config; zero outside both sub-networks', async () => {
    const { supernet, trainLoader } = setup();
    const batch = await firstBatch(trainLoader);
    const strategies = [netaug(scheduler), labelSmoothing(0.1)];
    const rng = new Rng(11);
    const { grads, config } = tidyValue(() => {
      const r = computeGradients({ supernet, strategies, batch, epoch: 0, step: 0, rng });
      expect(Object.keys(r.terms)).toEqual(['tiny', 'aug0']);
      return {
        grads: new Map([...r.grads].map(([k, g]) => [k, values(g)])),
        config: r.record.augConfigs![0],
      };
    });
    expect(supernet.getActive()).toEqual({ width: [1], expand: [1] }); // left at the tiny model
    const gTiny = gradsOf(supernet, batch, 'min', 0.1);
    const gAug = gradsOf(supernet, batch, config, 0.1);
    for (const [name, g] of grads) {
      const expected = gTiny.get(name)!.map((t, i) => t + 0.7 * gAug.get(name)![i]);
      g.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    }
    // conv1 output channels beyond the augmented width, conv2 output channels beyond its expand: zero gradient
    supernet.setActive(config);
    const { width: a1, expand: a2 } = supernet.activeChannels();
    supernet.setActive('min');
    expect(a1).toBeLessThan(supernet.max.width);
    const k1 = grads.get('conv1/kernel')!; // [3,3,1,W], channel fastest
    k1.forEach((v, i) => {
      if (i % supernet.max.width >= a1) expect(v).toBe(0);
    });
    const fc = grads.get('fc/kernel')!; // [E, K]
    fc.forEach((v, i) => {
      if (Math.floor(i / supernet.numClasses) >= a2) expect(v).toBe(0);
    });
    expect(grads.get('fc/kernel')!.some((v) => v !== 0)).toBe(true);
  });

  it('after one SGD step, weights outside both sub-networks change only by the weight-decay term', async () => {
    const { supernet, trainLoader } = setup();
    const batch = await firstBatch(trainLoader);
    const opt = createOptimizer(
      { type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 0.01 },
      supernet.variables(),
    );
    const before = values(supernet.v('conv1/kernel'));
    const r = trainStep(
      { supernet, strategies: [netaug(scheduler)], batch, epoch: 0, step: 0, rng: new Rng(3) },
      opt,
      0.5,
    );
    supernet.setActive(r.record.augConfigs![0]);
    const { width: a1 } = supernet.activeChannels();
    supernet.setActive('min');
    const after = values(supernet.v('conv1/kernel'));
    let checked = 0;
    before.forEach((w, i) => {
      if (i % supernet.max.width >= a1) {
        // g = wd·w, buf = g, d = g + 0.9·buf = 1.9·wd·w
        expect(after[i]).toBeCloseTo(w - 0.5 * 1.9 * 0.01 * w, 6);
        checked++;
      }
    });
    expect(checked).toBeGreaterThan(0);
    // BN beta of inactive channels: no decay, no gradient → unchanged
    const beta = values(supernet.v('bn1/beta'));
    for (let c = a1; c < supernet.max.width; c++) expect(beta[c]).toBe(0);
    opt.dispose();
  });

  it('an augmentation factor the supernet lacks is an INVALID_CONFIG naming the key', async () => {
    const { supernet, trainLoader } = setup();
    const batch = await firstBatch(trainLoader);
    const strategies = [netaug({ epochs: 2, widthMults: [1, 2] })];
    expect(() =>
      tidyValue(() => computeGradients({ supernet, strategies, batch, epoch: 0, step: 0, rng: new Rng(1) })),
    ).toThrow(/augmentation\.widthMults: \[2\] not in the supernet/);
  });

  it('distillation combines with NetAug on the tiny loss', async () => {
    const { supernet, trainLoader } = setup();
    const teacherNet = new TinySupernet({ seed: 9 });
    teacherNet.setActive('max');
    const batch = await firstBatch(trainLoader);
    const teacher = (x: tf.Tensor4D) => teacherNet.forward(x, { training: false });
    const strategies = [netaug(scheduler), distillation({ teacher, temperature: 2, weight: 0.5 })];
    const terms = tidyValue(
      () => computeGradients({ supernet, strategies, batch, epoch: 0, step: 0, rng: new Rng(1) }).terms,
    );
    expect(Object.keys(terms).sort()).toEqual(['aug0', 'kd', 'tiny']);
    expect(terms.kd).toBeGreaterThan(0);
    expect(teacherNet.getActive().width).toEqual([2.6]); // the teacher is untouched
    teacherNet.dispose();
  });
});
