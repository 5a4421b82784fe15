import * as tf from '@tensorflow/tfjs-core';
import {
  NetAugError,
  Rng,
  type Batch,
  type DataLoader,
  type LoaderState,
  type Shape3,
  type Supernet,
} from '@netaug/core';
import {
  evaluateCoco,
  evaluateVoc,
  flipSample,
  unletterboxBox,
  type Box,
  type Detection,
} from '@netaug/detection';
import {
  createAugmentationScheduler,
  type AugmentationConfig,
  type AugmentationScheduler,
} from '@netaug/schedulers';
import type { EvaluateOptions, TaskMetrics, TaskStepInput, TrainerTask } from '@netaug/trainer';
import { decodeRaw, type DetectorDecodeOptions } from './decode';
import { Detector } from './detector';
import type { Level } from './levels';
import type { FcosLossOptions } from './losses';
import { detectionStep } from './step';
import type { TargetOptions } from './targets';
import type { PreparedImages } from './train';

/** A batch of a {@link DetectionLoader}: a `Batch` (labels all 0) with the boxes of its images and their indices. */
export interface DetectionLoaderBatch extends Batch {
  /** Boxes of every image, in input pixels (flipped with the image). */
  boxes: Box[][];
  /** Index of every image in the prepared images. */
  indices: number[];
}

/** Options of {@link DetectionLoader}. */
export interface DetectionLoaderOptions {
  batchSize: number;
  /** A seeded order per epoch (default true; false: the images in order, for evaluation). */
  shuffle?: boolean;
  /** Seeded horizontal flips of half of the images (default: as `shuffle`). */
  flip?: boolean;
  /** Seed of the order and the flips (default 0). */
  seed?: number;
  /**
   * Leave out a last batch of a single image (default: as `shuffle`): batch norm cannot train on one image. The
   * evaluation loader keeps every image.
   */
  dropSingle?: boolean;
}

/**
 * A `DataLoader` (of `@netaug/core`, as the trainer wants it) over prepared detection images (`prepareImages`),
 * one epoch per iteration: the order of epoch `e` is a permutation seeded by `(seed, e)` and so are the flips
 * (trainDetector's), so the state `{ epoch, batch, seed }` restores the exact position mid-epoch. Batches are
 * {@link DetectionLoaderBatch}es. `groundTruth(i)` gives image `i`'s boxes in its source pixels (letterbox undone),
 * as the evaluation compares them.
 */
export class DetectionLoader implements DataLoader {
  readonly dataset: { size: number; shape: Shape3; classNames: string[] };
  readonly batchSize: number;
  readonly batchesPerEpoch: number;
  private readonly shuffle: boolean;
  private readonly flip: boolean;
  private state: LoaderState;

  constructor(
    readonly images: PreparedImages,
    classNames: string[],
    options: DetectionLoaderOptions,
  ) {
    const n = images.samples.length;
    const bs = options.batchSize;
    if (!Number.isInteger(bs) || bs < 1)
      throw new NetAugError(
        'INVALID_ARGUMENT',
        `DetectionLoader: batchSize must be a positive integer, got ${bs}`,
      );
    if (n === 0)
      throw new NetAugError('INVALID_ARGUMENT', 'DetectionLoader: no images', {
        hint: 'check the data set (and --subset / --val-split): a split is empty',
      });
    this.shuffle = options.shuffle ?? true;
    this.flip = options.flip ?? this.shuffle;
    const dropSingle = (options.dropSingle ?? this.shuffle) && n % bs === 1 && n > 1;
    this.dataset = { size: n, shape: images.shape, classNames: [...classNames] };
    this.batchSize = bs;
    this.batchesPerEpoch = dropSingle ? Math.floor(n / bs) : Math.ceil(n / bs);
    this.state = { epoch: 0, batch: 0, seed: options.seed ?? 0 };
  }

  getState(): LoaderState {
    return { ...this.state };
  }

  setState(state: LoaderState): void {
    this.state = { epoch: state.epoch, batch: state.batch, seed: state.seed };
  }

  /** Boxes of image `i` in its source image's pixels (the letterbox undone). */
  groundTruth(i: number): Box[] {
    const lb = this.images.letterbox[i];
    const boxes = this.images.samples[i].boxes;
    return lb ? boxes.map((b) => unletterboxBox(b, lb)) : boxes;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<DetectionLoaderBatch> {
    if (this.state.batch >= this.batchesPerEpoch)
      this.state = { ...this.state, epoch: this.state.epoch + 1, batch: 0 };
    const { epoch, seed } = this.state;
    const n = this.dataset.size;
    const order = this.shuffle
      ? new Rng(`${seed}/order/${epoch}`).permutation(n)
      : Int32Array.from({ length: n }, (_, i) => i);
    const flipRng = new Rng(`${seed}/flip/${epoch}`);
    const flips = Array.from(order, () => this.flip && flipRng.next() < 0.5);
    const [h, w, c] = this.dataset.shape;
    const per = h * w * c;
    while (this.state.epoch === epoch && this.state.batch < this.batchesPerEpoch) {
      const b = this.state.batch;
      const indices = Array.from(order.subarray(b * this.batchSize, Math.min((b + 1) * this.batchSize, n)));
      const images = new Float32Array(indices.length * per);
      const boxes: Box[][] = [];
      indices.forEach((k, i) => {
        const s = flips[b * this.batchSize + i] ? flipSample(this.images.samples[k]) : this.images.samples[k];
        images.set(s.image, i * per);
        boxes.push(s.boxes);
      });
      this.state = { ...this.state, batch: b + 1 };
      yield {
        images,
        shape: [indices.length, h, w, c],
        labels: new Int32Array(indices.length),
        boxes,
        indices,
      };
    }
  }
}

/** Options of {@link detectionTask}. */
export interface DetectionTaskOptions {
  /**
   * NetAug: the augmentation schedule (`epochs` needed; widths and expand factors default to the detector's), or
   * null for the baseline (the tiny detector's loss only).
   */
  netaug: (Partial<AugmentationConfig> & { epochs: number }) | null;
  targets?: TargetOptions;
  loss?: FcosLossOptions;
  /** Gradient-norm clipping (default 10, as trainDetector). */
  clipGradNorm?: number;
  /** Decoding of the evaluation (defaults of `decodeRaw`). */
  decode?: DetectorDecodeOptions;
}

function asDetector(supernet: Supernet<tf.Tensor, tf.Variable>): Detector {
  if (!(supernet instanceof Detector))
    throw new NetAugError(
      'INVALID_CONFIG',
      `detectionTask: the trainer's supernet ${supernet.name} is not a Detector`,
      {
        hint: 'train a createDetector(...) with the detection task',
      },
    );
  return supernet;
}

function asDetectionLoader(loader: DataLoader): DetectionLoader {
  if (!(loader instanceof DetectionLoader))
    throw new NetAugError('INVALID_CONFIG', 'detectionTask: evaluation needs a DetectionLoader', {
      hint: 'give the trainer DetectionLoaders over prepareImages(...) for validation and test data',
    });
  return loader;
}

/**
 * The detection task of `@netaug/trainer`'s `Trainer` (its `task` option): each step is {@link detectionStep}
 * (FCOS targets, the tiny detector's loss plus, with `netaug`, α · the loss of the augmented detector the scheduler
 * samples from the trainer's generator; gradient-norm clipping; one update; the trainer's divergence guard before
 * it), each evaluation decodes the tiny detector's eval-mode outputs (`decodeRaw`, letterbox undone) and measures
 * `vocMAP` (VOC mAP@0.5), `cocoMAP`, `cocoAP50`, `cocoAP75` against the loader's boxes (`count`: images). The
 * trainer does the rest as for classification: schedule, channel sorting, BN re-estimation before each
 * evaluation, best-epoch selection (monitor `val.vocMAP`), checkpoints and exact resume, the run folder. Loaders
 * must be {@link DetectionLoader}s.
 */
export function detectionTask(options: DetectionTaskOptions): TrainerTask {
  let scheduler: AugmentationScheduler | null | undefined;
  const schedulerFor = (det: Detector): AugmentationScheduler | null => {
    if (scheduler === undefined)
      scheduler = options.netaug
        ? createAugmentationScheduler({
            widthMults: det.space.widthMults,
            expandFactors: det.space.expandFactors,
            ...options.netaug,
          })
        : null;
    return scheduler;
  };
  return {
    name: 'detection',
    describe: () => ({
      name: 'detection',
      netaug: options.netaug ? { ...options.netaug } : null,
      clipGradNorm: options.clipGradNorm ?? 10,
      ...(options.targets ? { targets: options.targets } : {}),
      ...(options.loss ? { loss: options.loss } : {}),
      ...(options.decode ? { decode: options.decode } : {}),
    }),
    step(input: TaskStepInput) {
      const detector = asDetector(input.supernet);
      const batch = input.batch as DetectionLoaderBatch;
      if (!Array.isArray(batch.boxes))
        throw new NetAugError(
          'INVALID_CONFIG',
          'detectionTask: the train loader yields batches without boxes',
          {
            hint: 'train with a DetectionLoader',
          },
        );
      const r = detectionStep({
        detector,
        batch: { images: batch.images, shape: batch.shape, boxes: batch.boxes },
        optimizer: input.optimizer,
        lr: input.lr,
        netaug: schedulerFor(detector),
        epoch: input.epoch,
        step: input.step,
        rng: input.rng,
        targets: options.targets,
        loss: options.loss,
        clipGradNorm: options.clipGradNorm ?? 10,
        check: input.check,
      });
      return {
        loss: r.loss,
        terms: r.terms,
        size: batch.shape[0],
        record: r.augMode !== undefined ? { augMode: r.augMode, augConfigs: r.augConfigs } : {},
      };
    },
    async evaluate(supernet, loader, evalOptions: EvaluateOptions): Promise<TaskMetrics> {
      const detector = asDetector(supernet);
      const dl = asDetectionLoader(loader);
      detector.setActive('min');
      const { metrics } = await evaluateOutputs(
        (x) => detector.forwardLevels(x, { training: false }),
        dl,
        detector.levels,
        detector.numClasses,
        { decode: options.decode, onProgress: evalOptions.onProgress },
      );
      return metrics;
    },
  };
}

/** Options of {@link evaluateOutputs}. */
export interface EvaluateOutputsOptions extends EvaluateOptions {
  /** Decoding (defaults of `decodeRaw`). */
  decode?: DetectorDecodeOptions;
}

/**
 * Evaluates any model that gives a detector's per-level raw outputs — `Detector.forwardLevels`, or an exported
 * ModelIR's `buildTfModel(ir).predictOutputs` — on one pass of an evaluation {@link DetectionLoader} (its
 * position restored): decodes each image (`decodeRaw`, letterbox undone) and measures `vocMAP` (VOC mAP@0.5),
 * `cocoMAP`, `cocoAP50` and `cocoAP75` against the loader's boxes (`count`: images). `predict` runs inside
 * `tf.tidy`. Returns the figures and the detections of every image in loader order.
 */
export async function evaluateOutputs(
  predict: (x: tf.Tensor4D) => tf.Tensor[],
  loader: DetectionLoader,
  levels: readonly Level[],
  numClasses: number,
  options: EvaluateOutputsOptions = {},
): Promise<{ metrics: TaskMetrics; detections: Detection[][]; indices: number[] }> {
  const saved = loader.getState();
  const detections: Detection[][] = [];
  const gts: Box[][] = [];
  const indices: number[] = [];
  let done = 0;
  let images = 0;
  try {
    loader.setState({ ...saved, batch: 0 });
    for await (const b of loader) {
      const batch = b as DetectionLoaderBatch;
      const outs = tf.tidy(() => predict(tf.tensor4d(batch.images, batch.shape)));
      const flat = outs.map((t) => t.dataSync() as Float32Array);
      tf.dispose(outs);
      const n = batch.shape[0];
      batch.indices.forEach((k, i) => {
        const perLevel = flat.map((f) => f.subarray((i * f.length) / n, ((i + 1) * f.length) / n));
        const lb = loader.images.letterbox[k];
        detections.push(
          decodeRaw(perLevel, levels, numClasses, { ...options.decode, letterbox: lb ?? undefined }),
        );
        gts.push(loader.groundTruth(k));
        indices.push(k);
      });
      done++;
      images += n;
      await options.onProgress?.({ done, total: loader.batchesPerEpoch, images });
    }
  } finally {
    loader.setState(saved);
  }
  const voc = evaluateVoc(gts, detections, { numClasses });
  const coco = evaluateCoco(gts, detections, { numClasses });
  return {
    metrics: {
      vocMAP: voc.mAP ?? 0,
      cocoMAP: coco.mAP ?? 0,
      cocoAP50: coco.AP50 ?? 0,
      cocoAP75: coco.AP75 ?? 0,
      count: images,
    },
    detections,
    indices,
  };
}
