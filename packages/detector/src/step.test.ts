import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@netaug/core';
import { createAugmentationScheduler } from '@netaug/schedulers';
import { Sgd } from '@netaug/trainer';
import { createDetector, type Detector, type DetectorOptions } from './detector';
import { detectionStep, type DetectionBatch } from './step';
import { prepareImages, reestimateDetectorBatchNorm } from './train';
import { maxAbsDiff, seededImages, useFastBackend } from './test-utils';

beforeAll(useFastBackend);

const OPTIONS: DetectorOptions = {
  backbone: 'mobilenetv2-tiny',
  numClasses: 3,
  inputShape: [32, 32, 1],
  neckChannels: 8,
  headChannels: 8,
  widthMults: [1, 1.8],
  expandFactors: [1, 1.6],
  seed: 5,
};

const BATCH: DetectionBatch = {
  images: seededImages(4, [32, 32, 1], 2),
  shape: [4, 32, 32, 1],
  boxes: [
    [{ x: 2, y: 3, w: 12, h: 10, label: 1 }],
    [{ x: 10, y: 8, w: 20, h: 22, label: 2 }],
    [],
    [
      { x: 0, y: 0, w: 8, h: 8, label: 0 },
      { x: 16, y: 16, w: 14, h: 12, label: 1 },
    ],
  ],
};

describe('detectionStep', () => {
  it('NetAug: tiny + augmented loss, one update, no tensor left behind, the detector back at min', () => {
    const det = createDetector(OPTIONS);
    const opt = new Sgd(det.variables(), { momentum: 0.9, nesterov: true, weightDecay: 4e-5 });
    const sched = createAugmentationScheduler({ epochs: 4, widthMults: [1, 1.8], expandFactors: [1, 1.6] });
    const rng = new Rng(1);
    const weight = () => det.variables().find((v) => v.name === 'det.tower.0.pw.weight')!.variable;
    const w0 = tf.clone(weight());
    const counts: number[] = [];
    const results = [];
    for (let step = 0; step < 3; step++) {
      const before = tf.memory().numTensors;
      results.push(
        detectionStep({
          detector: det,
          batch: BATCH,
          optimizer: opt,
          lr: 0.05,
          netaug: sched,
          epoch: 0,
          step,
          rng,
        }),
      );
      counts.push(tf.memory().numTensors - before);
    }
    expect(counts).toEqual([0, 0, 0]);
    const r = results[0];
    expect(Object.keys(r.terms)).toEqual(['tiny', 'aug0']);
    expect(r.loss).toBeCloseTo(r.terms.tiny + r.terms.aug0, 4);
    expect(r.terms.tiny).toBeCloseTo(r.tiny.cls + r.tiny.box + r.tiny.centerness, 4);
    expect(r.augMode).toBe('random');
    expect(r.augConfigs![0].width).toHaveLength(det.choices.width.length);
    expect(r.positives).toBeGreaterThan(0);
    expect(det.getActive()).toEqual(det.setActive('min'));
    expect(maxAbsDiff(w0, weight())).toBeGreaterThan(0); // the head was updated
    // the same batch again and again: the tiny loss goes down
    expect(results[2].terms.tiny).toBeLessThan(results[0].terms.tiny);
    // second half of the schedule: widths fixed at 1 (min_w), expand factors sampled
    const late = detectionStep({
      detector: det,
      batch: BATCH,
      optimizer: opt,
      lr: 0.05,
      netaug: sched,
      epoch: 2,
      step: 0,
      rng,
    });
    expect(late.augMode).toBe('min_w');
    expect(late.augConfigs![0].width.every((v) => v === 1)).toBe(true);
    w0.dispose();
    opt.dispose();
    det.dispose();
  });

  it('baseline and NetAug start from the same tiny detector; a step is deterministic', () => {
    const run = (tinyOnly: boolean, netaug: boolean) => {
      const det = createDetector({ ...OPTIONS, tinyOnly });
      const opt = new Sgd(det.variables(), { momentum: 0.9, nesterov: true });
      const sched = netaug
        ? createAugmentationScheduler({ epochs: 4, widthMults: [1, 1.8], expandFactors: [1, 1.6] })
        : null;
      const r = detectionStep({
        detector: det,
        batch: BATCH,
        optimizer: opt,
        lr: 0.05,
        netaug: sched,
        epoch: 0,
        step: 0,
        rng: new Rng(4),
        clipGradNorm: 1,
      });
      opt.dispose();
      det.dispose();
      return r;
    };
    const base = run(true, false);
    const na = run(false, true);
    expect(Object.keys(base.terms)).toEqual(['tiny']);
    expect(na.terms.tiny).toBeCloseTo(base.terms.tiny, 5); // same weights, same batch, before the update
    const again = run(false, true);
    expect(again.loss).toBe(na.loss);
    expect(again.gradNorm).toBe(na.gradNorm);
    expect(na.gradNorm).toBeGreaterThan(1); // clipped to 1 for the update (the norm reported is before clipping)
  });

  it('refuses a scheduler whose factors the detector lacks, and images of another size', () => {
    const det = createDetector(OPTIONS);
    const opt = new Sgd(det.variables());
    const rng = new Rng(0);
    const sched = createAugmentationScheduler({ epochs: 2 }); // [1, 1.8, 2.6]
    expect(() =>
      detectionStep({
        detector: det,
        batch: BATCH,
        optimizer: opt,
        lr: 0.1,
        netaug: sched,
        epoch: 0,
        step: 0,
        rng,
      }),
    ).toThrow(/augmentation.widthMults: \[2.6\] not in the detector's widthMults/);
    const small = {
      ...BATCH,
      images: new Float32Array(4 * 16 * 16),
      shape: [4, 16, 16, 1] as [number, number, number, number],
    };
    expect(() =>
      detectionStep({ detector: det, batch: small, optimizer: opt, lr: 0.1, epoch: 0, step: 0, rng }),
    ).toThrow(/letterbox/);
    opt.dispose();
    det.dispose();
  });
});

describe('BN re-estimation of the tiny detector', () => {
  it('sets the running statistics to the exact batch statistics of the tiny detector', async () => {
    const det = createDetector(OPTIONS);
    // disturb the statistics with augmented training-mode passes
    const x = tf.tensor4d(BATCH.images, BATCH.shape);
    for (const mode of ['max', 'random'] as const) {
      det.setActive(mode, new Rng(3));
      tf.dispose(det.forward(x, { training: true }));
    }
    det.setActive('min');
    const samples = BATCH.boxes.map((boxes, i) => ({
      image: BATCH.images.subarray(i * 1024, (i + 1) * 1024),
      height: 32,
      width: 32,
      channels: 1,
      boxes,
    }));
    const prepared = await prepareImages(
      { size: 4, classNames: ['a', 'b', 'c'], get: (i) => samples[i] },
      32,
      32,
    );
    expect(prepared.letterbox.every((l) => l === null)).toBe(true);
    const stat = (d: Detector, name: string) => d.variables().find((v) => v.name === name)!.variable;
    const outside = tf.slice(
      stat(det, 'neck.lateral.0.bn.runningMean'),
      [8],
      [stat(det, 'neck.lateral.0.bn.runningMean').shape[0] - 8],
    );
    // one batch of all 4 images: the lateral's BN mean = the mean of its conv output, var = the unbiased variance,
    // with every earlier BN normalising by batch statistics (training mode)
    const [mean, variance] = tf.tidy(() => {
      const f = det.features(x, true)[0];
      const y = det.laterals[0].conv.apply(f, 8);
      const m = tf.moments(y, [0, 1, 2]);
      const n = y.size / 8;
      return [m.mean, tf.mul(m.variance, n / (n - 1))];
    });
    const used = await reestimateDetectorBatchNorm(det, prepared, { batchSize: 4 });
    expect(used).toBe(4);
    expect(maxAbsDiff(mean, tf.slice(stat(det, 'neck.lateral.0.bn.runningMean'), [0], [8]))).toBeLessThan(
      1e-4,
    );
    expect(maxAbsDiff(variance, tf.slice(stat(det, 'neck.lateral.0.bn.runningVar'), [0], [8]))).toBeLessThan(
      1e-3,
    );
    // the augmented channels' statistics are untouched
    const after = tf.slice(stat(det, 'neck.lateral.0.bn.runningMean'), [8], [outside.shape[0]]);
    expect(maxAbsDiff(outside, after)).toBe(0);
    tf.dispose([x, mean, variance, outside, after]);
    det.dispose();
  });
});
