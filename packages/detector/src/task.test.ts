/**
 * The detection task in `@netaug/trainer`'s Trainer: DetectionLoader order, flips and state; a short NetAug run
 * writes the classification run folder with detection figures; evaluation agrees with evaluateDetector; no tensor
 * is left behind.
 */
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { decodeModelIR, modelOutputs } from '@netaug/core';
import { flipSample, loadEmbeddedScenes, type DetectionDataset } from '@netaug/detection';
import { buildTfModel } from '@netaug/supernet';
import { Trainer, type TrainSummary } from '@netaug/trainer';
import { createDetector } from './detector';
import { DetectionLoader, detectionTask, evaluateOutputs, type DetectionLoaderBatch } from './task';
import { evaluateDetector, prepareImages, type PreparedImages } from './train';
import { useFastBackend } from './test-utils';

jest.setTimeout(300_000);

const first = (ds: DetectionDataset, n: number, from = 0): DetectionDataset => ({
  size: n,
  classNames: ds.classNames,
  get: (i) => ds.get(from + i),
  annotation: (i) => ds.annotation!(from + i),
});

let train: PreparedImages;
let val: PreparedImages;
let classNames: string[];
const dir = mkdtempSync(path.join(tmpdir(), 'netaug-det-task-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await useFastBackend();
  const [tr, te] = await Promise.all([loadEmbeddedScenes('train'), loadEmbeddedScenes('test')]);
  classNames = tr.classNames;
  train = await prepareImages(first(tr, 17), 32, 32); // 17 = 2 × 8 + 1: a last batch of one image
  val = await prepareImages(first(te, 10), 32, 32);
});

const batchesOf = async (l: DetectionLoader) => {
  const out: DetectionLoaderBatch[] = [];
  for await (const b of l) out.push(b as DetectionLoaderBatch);
  return out;
};

describe('DetectionLoader', () => {
  it('a seeded order and flips per epoch, the boxes flipped with the images; the state resumes mid-epoch', async () => {
    const l = new DetectionLoader(train, classNames, { batchSize: 8, seed: 4 });
    expect(l.batchesPerEpoch).toBe(2); // the single last image is left out: BN cannot train on it
    const e0 = await batchesOf(l);
    const e1 = await batchesOf(l);
    expect(e0.map((b) => b.indices)).not.toEqual(e1.map((b) => b.indices));
    expect(new Set(e0.flatMap((b) => b.indices)).size).toBe(16);
    // each image is the prepared one or its mirror, with the matching boxes
    let flipped = 0;
    for (const b of e0)
      b.indices.forEach((k, i) => {
        const s = train.samples[k];
        const got = b.images.subarray(i * 1024, (i + 1) * 1024);
        const f = flipSample(s);
        const isFlip = got.every((v, j) => v === f.image[j]) && !got.every((v, j) => v === s.image[j]);
        expect(b.boxes[i]).toEqual(isFlip ? f.boxes : s.boxes);
        if (isFlip) flipped++;
      });
    expect(flipped).toBeGreaterThan(2);
    expect(flipped).toBeLessThan(14);
    // the same state gives the same batches: epoch 1 from its second batch
    const again = new DetectionLoader(train, classNames, { batchSize: 8, seed: 4 });
    again.setState({ epoch: 1, batch: 1, seed: 4 });
    const rest = await batchesOf(again);
    expect(rest.map((b) => b.indices)).toEqual([e1[1].indices]);
    expect(rest[0].images).toEqual(e1[1].images);
    // evaluation order: every image, in order, no flips
    const ev = new DetectionLoader(val, classNames, { batchSize: 4, shuffle: false });
    expect((await batchesOf(ev)).map((b) => b.indices)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
  });
});

describe('detectionTask in the Trainer', () => {
  let summary: TrainSummary;
  let tensors: number;
  const runDir = path.join(dir, 'run');

  beforeAll(async () => {
    const det = createDetector({
      backbone: 'mobilenetv2-tiny',
      numClasses: 10,
      inputShape: [32, 32, 1],
      seed: 1,
    });
    try {
      const trainer = new Trainer({
        supernet: det,
        task: detectionTask({ netaug: { epochs: 2 } }),
        trainLoader: new DetectionLoader(train, classNames, { batchSize: 8, seed: 1 }),
        valLoader: new DetectionLoader(val, classNames, { batchSize: 8, shuffle: false }),
        testLoader: new DetectionLoader(val, classNames, { batchSize: 8, shuffle: false }),
        optimizer: { type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 4e-5 },
        lrSchedule: { type: 'cosine', baseLr: 0.1, warmupEpochs: 1 },
        monitor: 'val.vocMAP',
        bnReestimation: { images: 16 },
        runDir,
        seed: 1,
      });
      tensors = tf.memory().numTensors;
      summary = await trainer.fit({ epochs: 2 });
      tensors = tf.memory().numTensors - tensors;
      trainer.dispose();
      // the final model, evaluated again by evaluateDetector, gives the summary's test figures
      const ir = decodeModelIR(new Uint8Array(readFileSync(path.join(runDir, 'model.nair'))));
      expect(modelOutputs(ir)).toEqual(['det.pred.0', 'det.pred.1']);
    } finally {
      det.dispose();
    }
  });

  it('the run folder: config.json with the task, metrics.jsonl with val.vocMAP / val.cocoMAP, checkpoint, summary, model.nair', () => {
    const metrics = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(metrics).toHaveLength(2);
    for (const m of metrics) {
      expect(Object.keys(m.val).sort()).toEqual(['cocoAP50', 'cocoAP75', 'cocoMAP', 'count', 'vocMAP']);
      expect(m.val.count).toBe(10);
      expect(m.train.top1).toBeUndefined(); // no accuracy for detection
      expect(Object.keys(m.train.terms)).toEqual(['tiny', 'aug0']);
    }
    const config = JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8'));
    expect(config.task).toMatchObject({ name: 'detection', netaug: { epochs: 2 }, clipGradNorm: 10 });
    expect(config.trainer.monitor).toBe('val.vocMAP');
    expect(summary.final!.test).toMatchObject({ count: 10 });
    expect(summary.best!.metric).toBe('val.vocMAP');
    expect(summary.files).toEqual(
      expect.arrayContaining([
        'model.nair',
        'metrics.jsonl',
        'checkpoint.bin',
        'summary.json',
        'steps.jsonl',
      ]),
    );
    const steps = readFileSync(path.join(runDir, 'steps.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(steps).toHaveLength(4);
    expect(steps[0].aug.mode).toBe('random');
    expect(steps[0].top1).toBeUndefined();
  });

  it('fit() leaves no tensor behind', () => {
    expect(tensors).toBe(0);
  });

  it('the task’s evaluation equals evaluateDetector and evaluateOutputs of the extracted ModelIR', async () => {
    const det = createDetector({
      backbone: 'mobilenetv2-tiny',
      numClasses: 10,
      inputShape: [32, 32, 1],
      seed: 2,
    });
    try {
      // a predictor whose scores pass the threshold, so that there are detections to score
      tf.tidy(() => det.pred.bias!.variable.assign(tf.fill([15], 0.5)));
      const task = detectionTask({ netaug: null });
      const loader = new DetectionLoader(val, classNames, { batchSize: 3, shuffle: false });
      const before = tf.memory().numTensors;
      const m = await task.evaluate(det, loader, {});
      expect(tf.memory().numTensors).toBe(before);
      const ref = await evaluateDetector(det, val);
      expect(m).toEqual({
        vocMAP: ref.vocMAP,
        cocoMAP: ref.cocoMAP,
        cocoAP50: ref.cocoAP50,
        cocoAP75: ref.cocoAP75,
        count: 10,
      });
      expect(ref.detections.flat().length).toBeGreaterThan(0);
      // the same figures from the extracted ModelIR run by the supernet's IR executor (as `netaug eval` does)
      const model = buildTfModel(det.extract());
      const fromIr = await evaluateOutputs((x) => model.predictOutputs(x), loader, det.levels, 10);
      model.dispose();
      expect(fromIr.metrics).toEqual(m);
      expect(fromIr.detections).toHaveLength(10);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      det.dispose();
    }
  });

  it('refuses a supernet that is not a detector and a loader without boxes', async () => {
    const task = detectionTask({ netaug: null });
    const notDet = { name: 'x' } as never;
    await expect(task.evaluate(notDet, {} as never, {})).rejects.toThrow(/is not a Detector/);
    const det = createDetector({
      backbone: 'mobilenetv2-tiny',
      numClasses: 10,
      inputShape: [32, 32, 1],
      seed: 2,
    });
    try {
      await expect(task.evaluate(det, {} as never, {})).rejects.toThrow(/evaluation needs a DetectionLoader/);
    } finally {
      det.dispose();
    }
  });
});
