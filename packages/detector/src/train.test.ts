/** End-to-end: training on the embedded Fashion-MNIST scenes (on the fastest backend available, one thread). */
import * as tf from '@tensorflow/tfjs-core';
import { loadEmbeddedScenes, type DetectionDataset } from '@netaug/detection';
import { createDetector } from './detector';
import { evaluateDetector, prepareImages, reestimateDetectorBatchNorm, trainDetector } from './train';
import { useFastBackend } from './test-utils';

let train: DetectionDataset;
let test: DetectionDataset;

beforeAll(async () => {
  await useFastBackend();
  [train, test] = await Promise.all([loadEmbeddedScenes('train'), loadEmbeddedScenes('test')]);
});

/** The first `n` images of a dataset. */
function subset(ds: DetectionDataset, n: number): DetectionDataset {
  return {
    size: n,
    classNames: ds.classNames,
    get: (i) => ds.get(i),
    annotation: (i) => ds.annotation!(i),
  };
}

it('a short baseline run lowers the loss and beats an untrained detector on the test scenes', async () => {
  const t0 = Date.now();
  // untrained: the same initial weights, BN statistics re-estimated on 32 training images
  const untrained = createDetector({
    backbone: 'mobilenetv2-tiny',
    numClasses: 10,
    inputShape: [96, 96, 1],
    seed: 0,
    tinyOnly: true,
  });
  await reestimateDetectorBatchNorm(untrained, await prepareImages(subset(train, 32), 96, 96));
  // the first 50 test scenes (evaluation forwards in eval mode, slow on the native backend: JS batch norm)
  const test50 = subset(test, 50);
  const before = await evaluateDetector(untrained, test50);
  untrained.dispose();
  const tensors = tf.memory().numTensors;
  // 96 scenes × 8 epochs = 48 steps (a longer run: scripts/train-scenes.mjs)
  const r = await trainDetector({
    train: subset(train, 96),
    test: test50,
    epochs: 8,
    netaug: false,
    seed: 0,
    batchSize: 16,
    lr: 0.3,
  });
  expect(tf.memory().numTensors).toBe(tensors);
  const losses = r.epochs.map((e) => e.loss);
  console.log(
    `detector, 8 epochs baseline on 96 scenes, 50 test scenes (${tf.getBackend()}): loss ${losses.map((l) => l.toFixed(3)).join(' ')}; ` +
      `VOC mAP@0.5 ${r.vocMAP.toFixed(4)} (untrained ${before.vocMAP.toFixed(4)}), COCO mAP ${r.cocoMAP.toFixed(4)} ` +
      `(untrained ${before.cocoMAP.toFixed(4)}); ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  expect(r.steps).toBe(8 * 6);
  expect(losses[7]).toBeLessThan(0.8 * losses[0]);
  expect(losses[7]).toBeLessThan(losses[3]);
  // measured: 0.0462 VOC mAP@0.5, 0.0121 COCO mAP (native, 1 thread); untrained: 0.0000 and 0.0000
  expect(before.vocMAP).toBeLessThan(0.005);
  expect(r.vocMAP).toBeGreaterThan(0.02);
  expect(r.cocoMAP).toBeGreaterThan(before.cocoMAP + 0.003);
  expect(r.vocMAP).toBeGreaterThan(before.vocMAP + 0.02);
  expect(r.detections).toHaveLength(50);
}, 400_000);

it('trainDetector (NetAug) is deterministic for a seed and letterboxes other sizes', async () => {
  const run = () =>
    trainDetector({
      train: subset(train, 16),
      test: subset(test, 8),
      inputSize: [48, 64], // 96×96 scenes letterboxed to 48×48 in a 48×64 canvas
      epochs: 2,
      batchSize: 8,
      netaug: true,
      seed: 3,
      detector: { neckChannels: 16 },
    });
  const a = await run();
  const b = await run();
  expect(a.epochs.map((e) => e.terms)).toEqual(b.epochs.map((e) => e.terms));
  expect(Object.keys(a.epochs[0].terms)).toEqual(['tiny', 'aug0']);
  expect(a.vocMAP).toBe(b.vocMAP);
  expect(a.steps).toBe(4);
  // detections come back in the 96×96 scene's pixels
  const all = a.detections.flat();
  expect(all.length).toBeGreaterThan(0);
  for (const d of all) {
    expect(d.x).toBeGreaterThanOrEqual(0);
    expect(d.y).toBeGreaterThanOrEqual(0);
    expect(d.x + d.w).toBeLessThanOrEqual(96 + 1e-9);
    expect(d.y + d.h).toBeLessThanOrEqual(96 + 1e-9);
  }
}, 400_000);
