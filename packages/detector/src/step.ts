import * as tf from '@tensorflow/tfjs-core';
import { NetAugError, type ActiveConfig, type Rng } from '@netaug/core';
import type { Box } from '@netaug/detection';
import type { AugmentationScheduler } from '@netaug/schedulers';
import type { NamedOptimizer } from '@netaug/trainer';
import type { Detector } from './detector';
import { fcosLoss, type FcosLossOptions } from './losses';
import { assignBatchTargets, type TargetOptions } from './targets';

/** A batch of detection inputs: NHWC images (already at the detector's input size) and their boxes in input pixels. */
export interface DetectionBatch {
  images: Float32Array;
  /** `[N, H, W, C]` */
  shape: [number, number, number, number];
  /** Boxes of every image, in pixels of the input. */
  boxes: Box[][];
}

/** Inputs of {@link detectionStep}. */
export interface DetectionStepInput {
  detector: Detector;
  batch: DetectionBatch;
  /** An optimizer over `detector.variables()` (e.g. `createOptimizer` or `new Sgd(...)` of @netaug/trainer). */
  optimizer: NamedOptimizer;
  lr: number;
  /**
   * NetAug: the scheduler that samples the augmented config(s) of this step (`createAugmentationScheduler` of
   * @netaug/schedulers), over the detector's choice points (backbone, neck and head together). Absent or null:
   * the baseline (the tiny detector's loss only).
   */
  netaug?: AugmentationScheduler | null;
  epoch: number;
  /** Batch index within the epoch. */
  step: number;
  /** Generator the augmented configs are drawn from (save its state to resume). */
  rng: Rng;
  targets?: TargetOptions;
  loss?: FcosLossOptions;
  /** Rescale the gradients when their global L2 norm exceeds this (default: no clipping). */
  clipGradNorm?: number;
  /**
   * Runs after the finite-loss check and before the update with the loss and terms; it may throw (the trainer's
   * divergence guard does), and then nothing is updated.
   */
  check?: (r: { loss: number; terms: Record<string, number> }) => void;
}

/** What one step computed. */
export interface DetectionStepResult {
  /** The summed loss that was minimised (`tiny + α · aug…`). */
  loss: number;
  /** Every term: `tiny`, `aug0`, … (the augmented ones with α applied). */
  terms: Record<string, number>;
  /** The tiny detector's loss parts. */
  tiny: { cls: number; box: number; centerness: number };
  /** Positive locations in the batch. */
  positives: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** The augmented configs of this step (NetAug), and the scheduler's mode (null: no augmented model). */
  augConfigs?: ActiveConfig[];
  augMode?: string | null;
}

/** Throws INVALID_CONFIG unless every factor the scheduler can sample is one the detector supports. */
function checkSpace(s: AugmentationScheduler, detector: Detector): void {
  for (const key of ['widthMults', 'expandFactors'] as const) {
    const bad = s.config[key].filter((f) => !detector.space[key].includes(f));
    if (bad.length)
      throw new NetAugError(
        'INVALID_CONFIG',
        `augmentation.${key}: [${bad}] not in the detector's ${key} [${detector.space[key]}]`,
        { hint: `use a subset of [${detector.space[key]}]` },
      );
  }
}

/**
 * One training step of a detector, baseline or NetAug, as the classification trainer does it: FCOS targets on the
 * CPU (`assignBatchTargets`), then inside ONE `tf.variableGrads` the tiny detector's loss (`setActive('min')`,
 * training-mode forward, {@link fcosLoss}) plus, with `netaug`, `α · loss` of each augmented config the scheduler
 * samples (backbone, neck and head widths together), their sum differentiated w.r.t. every trainable variable, and
 * ONE optimizer update — all inside `tf.tidy`: the tensor count is the same after the step as before. The detector
 * is left at `min`. A NaN or infinite loss throws `NUMERIC` and updates nothing.
 */
export function detectionStep(input: DetectionStepInput): DetectionStepResult {
  const { detector, batch, epoch, step } = input;
  const C = detector.numClasses;
  const [n, h, w, c] = batch.shape;
  if (batch.boxes.length !== n)
    throw new NetAugError('SHAPE_MISMATCH', `detectionStep: ${batch.boxes.length} box lists for ${n} images`);
  const [ih, iw, ic] = detector.inputShape;
  if (h !== ih || w !== iw || c !== ic)
    throw new NetAugError(
      'SHAPE_MISMATCH',
      `detectionStep: images of ${h}×${w}×${c}, the detector takes ${ih}×${iw}×${ic}`,
      { hint: 'letterbox the images (and their boxes) to the input size first' },
    );
  if (input.netaug) checkSpace(input.netaug, detector);
  const targets = assignBatchTargets(batch.boxes, detector.levels, input.targets);
  const named = detector.variables().filter((v) => v.trainable);
  const byTfName = new Map(named.map((v) => [v.variable.name, v.name]));
  const kept: tf.Tensor[] = [];
  let names: string[] = [];
  let augConfigs: ActiveConfig[] | undefined;
  let augMode: string | null | undefined;
  let result: DetectionStepResult | undefined;
  try {
    tf.tidy(() => {
      const x = tf.tensor4d(batch.images, batch.shape);
      const { value, grads } = tf.variableGrads(
        () => {
          detector.setActive('min');
          const tiny = fcosLoss(detector.forwardLevels(x, { training: true }), targets, C, input.loss);
          kept.push(tf.keep(tf.stack([tiny.cls, tiny.box, tiny.centerness])));
          const terms: Record<string, tf.Scalar> = { tiny: tiny.total };
          if (input.netaug) {
            const counts = { width: detector.choices.width.length, expand: detector.choices.expand.length };
            const d = input.netaug.sample(epoch, step, input.rng, counts);
            augMode = d?.mode ?? null;
            if (d) {
              augConfigs = d.configs;
              d.configs.forEach((config, i) => {
                detector.setActive(config);
                const l = fcosLoss(
                  detector.forwardLevels(x, { training: true }),
                  targets,
                  C,
                  input.loss,
                ).total;
                terms[`aug${i}`] = d.alpha === 1 ? l : (tf.mul(l, d.alpha) as tf.Scalar);
              });
            }
          }
          detector.setActive('min');
          names = Object.keys(terms);
          kept.push(tf.keep(tf.stack(Object.values(terms))));
          return tf.addN(Object.values(terms)) as tf.Scalar;
        },
        named.map((v) => v.variable),
      );
      const loss = value.dataSync()[0];
      const tv = kept[1].dataSync();
      const terms = Object.fromEntries(names.map((k, i) => [k, tv[i]]));
      if (!Number.isFinite(loss))
        throw new NetAugError('NUMERIC', `Detection loss is ${loss} at epoch ${epoch}, step ${step}`, {
          hint: 'lower the learning rate or clip the gradients (clipGradNorm)',
          details: { reason: 'non-finite', loss, epoch, step, terms },
        });
      input.check?.({ loss, terms });
      const list = Object.values(grads);
      const gradNorm = Math.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g)))).dataSync()[0]);
      const clip = input.clipGradNorm;
      const factor = clip !== undefined && gradNorm > clip ? clip / gradNorm : 1;
      const byName = new Map<string, tf.Tensor>();
      for (const [k, g] of Object.entries(grads))
        byName.set(byTfName.get(k)!, factor === 1 ? g : tf.mul(g, factor));
      input.optimizer.applyGradients(byName, input.lr);
      const parts = kept[0].dataSync();
      result = {
        loss,
        terms,
        tiny: { cls: parts[0], box: parts[1], centerness: parts[2] },
        positives: targets.positives,
        gradNorm,
        augConfigs,
        augMode,
      };
    });
  } finally {
    for (const t of kept) t.dispose();
    detector.setActive('min');
  }
  return result!;
}
