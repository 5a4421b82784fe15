import * as tf from '@tensorflow/tfjs-core';
import { NetAugError, Rng, type Batch, type DataLoader, type LoaderState, type Shape3 } from '@netaug/core';
import {
  evaluateCoco,
  evaluateVoc,
  flipSample,
  groundTruthOf,
  letterboxSample,
  unletterboxBox,
  type Box,
  type DetectionDataset,
  type Detection,
  type DetectionSample,
  type LetterboxParams,
} from '@netaug/detection';
import { createAugmentationScheduler, createLrSchedule, type AugmentationConfig } from '@netaug/schedulers';
import { Sgd, ensureGradients, reestimateBatchNorm } from '@netaug/trainer';
import { decodeRaw, type DetectorDecodeOptions } from './decode';
import { createDetector, type Detector, type DetectorOptions } from './detector';
import type { FcosLossOptions } from './losses';
import { detectionStep, type DetectionBatch } from './step';
import type { TargetOptions } from './targets';

/** Images of a dataset at the detector's input size (letterboxed when their size differs), with their boxes. */
export interface PreparedImages {
  shape: Shape3;
  samples: DetectionSample[];
  /** Per image: the letterbox that was applied, or null. */
  letterbox: (LetterboxParams | null)[];
}

/**
 * Reads every image of `ds` and letterboxes those whose size is not `height × width` (boxes moved with the pixels;
 * `fill` 0.5, @netaug/detection's default).
 */
export async function prepareImages(
  ds: DetectionDataset,
  height: number,
  width: number,
): Promise<PreparedImages> {
  const samples: DetectionSample[] = [];
  const letterbox: (LetterboxParams | null)[] = [];
  let channels = 0;
  for (let i = 0; i < ds.size; i++) {
    const s = await ds.get(i);
    if (channels && s.channels !== channels)
      throw new NetAugError(
        'DATA_FORMAT',
        `image ${i} has ${s.channels} channels, earlier ones ${channels}`,
        {
          hint: 'decode every image with the same number of channels',
        },
      );
    channels = s.channels;
    if (s.height === height && s.width === width) {
      samples.push(s);
      letterbox.push(null);
    } else {
      const r = letterboxSample(s, height, width);
      samples.push(r.sample);
      letterbox.push(r.params);
    }
  }
  return { shape: [height, width, channels], samples, letterbox };
}

function batchOf(samples: DetectionSample[], shape: Shape3): DetectionBatch {
  const per = shape[0] * shape[1] * shape[2];
  const images = new Float32Array(samples.length * per);
  samples.forEach((s, i) => images.set(s.image, i * per));
  return { images, shape: [samples.length, ...shape], boxes: samples.map((s) => s.boxes) };
}

/** A {@link DataLoader} over prepared images in a fixed order (labels 0), for BN re-estimation. */
class ImageLoader implements DataLoader {
  readonly dataset: { size: number; shape: Shape3; classNames: string[] };
  readonly batchesPerEpoch: number;
  private state: LoaderState = { epoch: 0, batch: 0, seed: 0 };

  constructor(
    private readonly images: PreparedImages,
    readonly batchSize: number,
  ) {
    this.dataset = { size: images.samples.length, shape: images.shape, classNames: [] };
    this.batchesPerEpoch = Math.ceil(images.samples.length / batchSize);
  }

  getState(): LoaderState {
    return { ...this.state };
  }

  setState(state: LoaderState): void {
    this.state = { ...state };
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    while (this.state.batch < this.batchesPerEpoch) {
      const b = this.state.batch++;
      const part = this.images.samples.slice(b * this.batchSize, (b + 1) * this.batchSize);
      const { images, shape } = batchOf(part, this.images.shape);
      yield { images, shape, labels: new Int32Array(part.length) };
    }
  }
}

/**
 * BN re-estimation of the tiny detector (`min`) on the first `images` prepared images (the trainer's
 * `reestimateBatchNorm`: running mean = exact mean over the images, running variance = mean of the per-batch
 * variances; only the tiny detector's channels change). Returns the images used.
 */
export async function reestimateDetectorBatchNorm(
  detector: Detector,
  images: PreparedImages,
  options: { images?: number; batchSize?: number } = {},
): Promise<number> {
  const loader = new ImageLoader(images, options.batchSize ?? 32);
  return reestimateBatchNorm(detector, loader, { images: options.images ?? images.samples.length });
}

/** Options of {@link evaluateDetector}. */
export interface EvaluateDetectorOptions extends DetectorDecodeOptions {
  /** Images per forward pass (default 32). */
  batchSize?: number;
}

/** What {@link evaluateDetector} measured. */
export interface DetectorEvaluation {
  /** VOC mAP@0.5 (all-point). */
  vocMAP: number;
  /** COCO mAP@[.5:.95]. */
  cocoMAP: number;
  cocoAP50: number;
  cocoAP75: number;
  /** VOC AP per class (null: no ground truth). */
  vocAP: (number | null)[];
  /** Detections per image, in the dataset's image pixels. */
  detections: Detection[][];
}

/**
 * Detections of the **active** sub-network (normally `min`, the tiny detector) on every image of `ds`, in eval
 * mode (running BN statistics), decoded with {@link decodeRaw} (letterbox undone), and their VOC mAP@0.5 and
 * COCO mAP against the dataset's boxes. Re-estimate BN first after NetAug training.
 */
export async function evaluateDetector(
  detector: Detector,
  ds: DetectionDataset | PreparedImages,
  options: EvaluateDetectorOptions & { groundTruth?: Box[][] } = {},
): Promise<DetectorEvaluation> {
  const [h, w] = detector.inputShape;
  const prepared = 'samples' in ds ? ds : await prepareImages(ds, h, w);
  const gts =
    options.groundTruth ??
    ('samples' in ds
      ? ds.samples.map((s, i) => {
          const lb = ds.letterbox[i];
          return lb ? s.boxes.map((b) => unletterboxBox(b, lb)) : s.boxes;
        })
      : await groundTruthOf(ds));
  const bs = options.batchSize ?? 32;
  const detections: Detection[][] = [];
  const K = detector.numClasses + 5;
  for (let start = 0; start < prepared.samples.length; start += bs) {
    const part = prepared.samples.slice(start, start + bs);
    const batch = batchOf(part, prepared.shape);
    const raw = tf.tidy(() => detector.forward(tf.tensor4d(batch.images, batch.shape), { training: false }));
    const data = raw.dataSync() as Float32Array;
    raw.dispose();
    const L = data.length / (part.length * K);
    part.forEach((_, i) => {
      const lb = prepared.letterbox[start + i];
      detections.push(
        decodeRaw(data.subarray(i * L * K, (i + 1) * L * K), detector.levels, detector.numClasses, {
          ...options,
          letterbox: lb ?? undefined,
        }),
      );
    });
  }
  const voc = evaluateVoc(gts, detections, { numClasses: detector.numClasses });
  const coco = evaluateCoco(gts, detections, { numClasses: detector.numClasses });
  return {
    vocMAP: voc.mAP ?? 0,
    cocoMAP: coco.mAP ?? 0,
    cocoAP50: coco.AP50 ?? 0,
    cocoAP75: coco.AP75 ?? 0,
    vocAP: voc.ap,
    detections,
  };
}

/** Options of {@link trainDetector}. */
export interface TrainDetectorOptions {
  /** Backbone supernet (default `mobilenetv2-tiny`). */
  backbone?: string;
  /** More detector options (strides, neck / head widths, width factors, …). */
  detector?: Omit<DetectorOptions, 'backbone' | 'numClasses' | 'inputShape' | 'seed' | 'tinyOnly'>;
  train: DetectionDataset;
  test: DetectionDataset;
  /** Input `[height, width]` (default: the first training image's size); images of another size are letterboxed. */
  inputSize?: [number, number];
  epochs: number;
  /** Default 16. */
  batchSize?: number;
  /** NetAug (tiny + α · augmented loss) or the baseline (tiny only, `tinyOnly` weights). Default true. */
  netaug?: boolean;
  /** The augmentation schedule (default `{ epochs }`: one random augmented model per step, α = 1, widths stop half-way). */
  augmentation?: Partial<AugmentationConfig>;
  /** Seed of the weights, the batch order, the flips and the augmented configs; default 0. */
  seed?: number;
  /** Peak learning rate of the cosine schedule (default 0.2), after `warmupEpochs` (default 1) of linear warm-up. */
  lr?: number;
  warmupEpochs?: number;
  /** SGD momentum (default 0.9, Nesterov) and weight decay (default 4e-5, not on BN, biases and scales). */
  momentum?: number;
  weightDecay?: number;
  /** Gradient-norm clipping (default 10). */
  clipGradNorm?: number;
  /** Random horizontal flips of the training images (default true). */
  flip?: boolean;
  /** Training images for BN re-estimation before the evaluation (default all, at most 2000). */
  bnImages?: number;
  targets?: TargetOptions;
  loss?: FcosLossOptions;
  decode?: DetectorDecodeOptions;
  /** Called after every epoch. */
  onEpoch?: (e: EpochRecord) => void;
  /** Return the trained detector (the caller disposes it); default false (disposed). */
  keepDetector?: boolean;
}

/** One epoch of {@link trainDetector}. */
export interface EpochRecord {
  epoch: number;
  /** Mean over the epoch's steps of the summed loss. */
  loss: number;
  /** Mean of each term (`tiny`, `aug0`). */
  terms: Record<string, number>;
  /** Mean of the tiny detector's parts. */
  tiny: { cls: number; box: number; centerness: number };
  seconds: number;
}

/** What {@link trainDetector} returns. */
export interface TrainDetectorResult extends Omit<DetectorEvaluation, 'detections'> {
  epochs: EpochRecord[];
  steps: number;
  /** The trained detector (with `keepDetector`). */
  detector?: Detector;
  detections: Detection[][];
}

/**
 * Trains a tiny detector (baseline or NetAug) on `train` and evaluates it on `test`: SGD (Nesterov momentum 0.9,
 * weight decay 4e-5 as the classification recipe) with a cosine learning rate after a linear warm-up, batches in
 * a seeded order with seeded horizontal flips, {@link detectionStep} per batch, then BN re-estimation of the tiny
 * detector on the training images and {@link evaluateDetector} on `test`. Deterministic for a seed on a given
 * backend. Registers the gradient functions it needs (`registerTrainingGradients` of `@netaug/backend`, through
 * `@netaug/trainer`'s `ensureGradients`).
 */
export async function trainDetector(options: TrainDetectorOptions): Promise<TrainDetectorResult> {
  await ensureGradients();
  const seed = options.seed ?? 0;
  const netaug = options.netaug ?? true;
  const bs = options.batchSize ?? 16;
  if (!Number.isInteger(options.epochs) || options.epochs < 1)
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `trainDetector: epochs must be a positive integer, got ${options.epochs}`,
    );
  if (!Number.isInteger(bs) || bs < 2)
    throw new NetAugError('INVALID_ARGUMENT', `trainDetector: batchSize must be an integer ≥ 2, got ${bs}`, {
      hint: 'batch norm needs at least 2 images per batch',
    });
  let size = options.inputSize;
  if (!size) {
    const a = options.train.annotation?.(0) ?? (await options.train.get(0));
    size = [a.height, a.width];
  }
  const train = await prepareImages(options.train, size[0], size[1]);
  const test = await prepareImages(options.test, size[0], size[1]);
  const gts = await groundTruthOf(options.test);
  const detector = createDetector({
    ...options.detector,
    backbone: options.backbone ?? 'mobilenetv2-tiny',
    numClasses: options.train.classNames.length,
    inputShape: train.shape,
    seed,
    tinyOnly: !netaug,
  });
  const optimizer = new Sgd(detector.variables(), {
    momentum: options.momentum ?? 0.9,
    nesterov: true,
    weightDecay: options.weightDecay ?? 4e-5,
  });
  try {
    const n = train.samples.length;
    const stepsPerEpoch = Math.ceil(n / bs);
    const warmupEpochs = Math.min(options.warmupEpochs ?? 1, options.epochs - 1);
    const lr = createLrSchedule({
      type: 'cosine',
      baseLr: options.lr ?? 0.2,
      epochs: options.epochs,
      stepsPerEpoch,
      warmupEpochs,
    });
    const scheduler = netaug
      ? createAugmentationScheduler({
          widthMults: detector.space.widthMults,
          expandFactors: detector.space.expandFactors,
          ...options.augmentation,
          epochs: options.epochs,
        })
      : null;
    const rng = new Rng(`${seed}/netaug`);
    const epochs: EpochRecord[] = [];
    let steps = 0;
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      const t0 = Date.now();
      const order = new Rng(`${seed}/order/${epoch}`).permutation(n);
      const flipRng = new Rng(`${seed}/flip/${epoch}`);
      const flips = Array.from(order, () => options.flip !== false && flipRng.next() < 0.5);
      const sums: Record<string, number> = {};
      const tiny = { cls: 0, box: 0, centerness: 0 };
      let loss = 0;
      let count = 0;
      for (let b = 0; b < stepsPerEpoch; b++) {
        const idx = Array.from(order.subarray(b * bs, (b + 1) * bs));
        if (idx.length < 2) continue; // a last batch of one image: batch norm cannot train on it
        const samples = idx.map((i, j) =>
          flips[b * bs + j] ? flipSample(train.samples[i]) : train.samples[i],
        );
        const r = detectionStep({
          detector,
          batch: batchOf(samples, train.shape),
          optimizer,
          lr: lr.at(epoch, b),
          netaug: scheduler,
          epoch,
          step: b,
          rng,
          targets: options.targets,
          loss: options.loss,
          clipGradNorm: options.clipGradNorm ?? 10,
        });
        loss += r.loss;
        for (const [k, v] of Object.entries(r.terms)) sums[k] = (sums[k] ?? 0) + v;
        tiny.cls += r.tiny.cls;
        tiny.box += r.tiny.box;
        tiny.centerness += r.tiny.centerness;
        count++;
        steps++;
      }
      const rec: EpochRecord = {
        epoch,
        loss: loss / count,
        terms: Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / count])),
        tiny: { cls: tiny.cls / count, box: tiny.box / count, centerness: tiny.centerness / count },
        seconds: (Date.now() - t0) / 1000,
      };
      epochs.push(rec);
      options.onEpoch?.(rec);
    }
    detector.setActive('min');
    await reestimateDetectorBatchNorm(detector, train, { images: Math.min(options.bnImages ?? 2000, n) });
    const evaluation = await evaluateDetector(detector, test, { ...options.decode, groundTruth: gts });
    return { ...evaluation, epochs, steps, detector: options.keepDetector ? detector : undefined };
  } finally {
    optimizer.dispose();
    if (!options.keepDetector) detector.dispose();
  }
}
