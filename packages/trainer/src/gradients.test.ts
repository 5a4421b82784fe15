/**
 * Training with only @netaug/backend's own gradient functions (ensureGradients → registerTrainingGradients):
 * this file runs in its own jest module registry and never loads @tensorflow/tfjs-layers until the last test,
 * which loads it to compare against tfjs' own gradient functions. It deliberately does not import
 * ./test-utils (that one registers our gradients when imported).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Rng, type Batch } from '@netaug/core';
import { TRAINING_GRADIENTS } from '@netaug/backend';
import { createSupernet } from '@netaug/supernet';
import { createAugmentationScheduler } from '@netaug/schedulers';
import { ensureGradients } from './gradients';
import { computeGradients, trainStep } from './step';
import { labelSmoothing, netaug } from './strategies';
import { Sgd } from './optimizers/sgd';
import { textureTask } from './testing/synthetic';

jest.setTimeout(600_000);

const loadedLayers = () => Object.keys(require.cache).filter((k) => k.includes('tfjs-layers'));

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
});

const SHAPE: [number, number, number] = [16, 16, 1];
const task = textureTask(8, { size: 16, seed: 1 });

function makeNet() {
  return createSupernet('mobilenetv2-tiny', {
    numClasses: 4,
    inputShape: SHAPE,
    smallInput: true,
    seed: 3,
    widthMults: [1, 1.8],
    expandFactors: [1, 1.6],
  });
}

function batchOf(n: number): Batch {
  const per = SHAPE[0] * SHAPE[1] * SHAPE[2];
  return {
    images: task.images.slice(0, n * per),
    labels: task.labels.slice(0, n),
    shape: [n, SHAPE[0], SHAPE[1], SHAPE[2]],
  };
}

const scheduler = () =>
  createAugmentationScheduler({ epochs: 4, widthMults: [1, 1.8], expandFactors: [1, 1.6] });

/** Gradients of one NetAug + label-smoothing step, by variable name. */
function netaugGradients(
  net: ReturnType<typeof makeNet>,
  batch: Batch,
  recompute: boolean,
): { grads: Map<string, Float32Array>; terms: Record<string, number> } {
  let out: { grads: Map<string, Float32Array>; terms: Record<string, number> } | undefined;
  tf.tidy(() => {
    const r = computeGradients({
      supernet: net,
      strategies: [netaug(scheduler()), labelSmoothing(0.1)],
      batch,
      epoch: 1,
      step: 0,
      rng: new Rng(5),
      recompute,
    });
    out = {
      grads: new Map([...r.grads].map(([k, g]) => [k, g.dataSync().slice() as Float32Array])),
      terms: r.terms,
    };
  });
  return out!;
}

test('a fresh registry has no gradients; ensureGradients registers ours without loading tfjs-layers', async () => {
  expect(tf.getGradient('Conv2D')).toBeUndefined();
  expect(tf.getGradient('AddN')).toBeUndefined();
  await ensureGradients();
  for (const g of TRAINING_GRADIENTS) expect(tf.getGradient(g.kernelName)).toBe(g);
  await ensureGradients(); // idempotent
  expect(loadedLayers()).toEqual([]);
  expect(Object.keys(require.cache).some((k) => k.includes('tfjs-core'))).toBe(true); // the check does see modules
});

test('mobilenetv2-tiny (small input) trains with NetAug on them: the loss goes down, no tensor leaks', async () => {
  await ensureGradients();
  const net = makeNet();
  const opt = new Sgd(net.variables(), { momentum: 0.9, nesterov: true, weightDecay: 4e-5 });
  const batch = batchOf(8);
  const strategies = [netaug(scheduler()), labelSmoothing(0.1)];
  const rng = new Rng(7);
  const losses: number[] = [];
  const leaks: number[] = [];
  for (let step = 0; step < 10; step++) {
    const before = tf.memory().numTensors;
    const r = trainStep({ supernet: net, strategies, batch, epoch: 1, step, rng }, opt, 0.02);
    if (step > 0) leaks.push(tf.memory().numTensors - before); // step 0 creates the momentum slots
    losses.push(r.terms.tiny);
  }
  console.log(
    `tiny-model loss over 10 NetAug steps on one batch: ${losses.map((l) => l.toFixed(4)).join(' ')}`,
  );
  expect(leaks.every((d) => d === 0)).toBe(true);
  expect(losses.every(Number.isFinite)).toBe(true);
  const mean3 = (v: number[]) => (v[0] + v[1] + v[2]) / 3;
  expect(mean3(losses.slice(-3))).toBeLessThan(0.9 * mean3(losses)); // measured: 1.121 vs 1.349
  expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
  expect(loadedLayers()).toEqual([]);
  net.dispose();
});

test("one NetAug step gives the same gradients with our registrations as with tfjs' (tfjs-layers)", async () => {
  await ensureGradients();
  const net = makeNet();
  const batch = batchOf(4);
  const before = tf.memory().numTensors;
  const ours = netaugGradients(net, batch, false);
  const oursRecompute = netaugGradients(net, batch, true);
  expect(tf.memory().numTensors).toBe(before);
  expect(loadedLayers()).toEqual([]);

  // now tfjs' own gradient functions replace ours (silence its "Overriding the gradient" warnings)
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  try {
    require('@tensorflow/tfjs-layers');
  } finally {
    warn.mockRestore();
  }
  expect(loadedLayers().length).toBeGreaterThan(0);
  expect(tf.getGradient('Conv2D')).not.toBe(TRAINING_GRADIENTS.find((g) => g.kernelName === 'Conv2D'));
  const theirs = netaugGradients(net, batch, false);

  expect(Object.keys(ours.terms)).toEqual(['tiny', 'aug0']);
  expect(ours.terms).toEqual(theirs.terms);
  const compare = (a: Map<string, Float32Array>, b: Map<string, Float32Array>) => {
    let diff = 0;
    let scale = 0;
    for (const [name, g] of b) {
      const o = a.get(name)!;
      expect(o.length).toBe(g.length);
      for (let i = 0; i < g.length; i++) {
        diff = Math.max(diff, Math.abs(o[i] - g[i]));
        scale = Math.max(scale, Math.abs(g[i]));
      }
    }
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    return { diff, scale, relative: diff / scale };
  };
  const plain = compare(ours.grads, theirs.grads);
  const recompute = compare(oursRecompute.grads, theirs.grads);
  console.log(
    `max |ours − tfjs| over all ${theirs.grads.size} gradients: ${plain.diff.toExponential(2)} ` +
      `(max |g| ${plain.scale.toExponential(2)}, relative ${plain.relative.toExponential(2)}); ` +
      `ours with recompute: ${recompute.diff.toExponential(2)} (relative ${recompute.relative.toExponential(2)})`,
  );
  expect(plain.relative).toBeLessThanOrEqual(1e-6);
  expect(recompute.relative).toBeLessThanOrEqual(1e-6);
  net.dispose();
});
