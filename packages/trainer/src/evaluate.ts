import * as tf from '@tensorflow/tfjs-core';
import type { DataLoader, Supernet } from '@netaug/core';
import { crossEntropy, topKCorrect } from './losses';

/** Loss and accuracy of the tiny model on one pass over a loader. */
export interface EvalMetrics {
  loss: number;
  top1: number;
  top5: number;
  count: number;
}

/**
 * What the evaluation of a {@link TrainerTask} measured: named figures of the tiny model (detection: `vocMAP`,
 * `cocoMAP`, `cocoAP50`, `cocoAP75`, `count`). Classification records {@link EvalMetrics}.
 */
export type TaskMetrics = Record<string, number>;

/** Figures of an evaluation: classification's {@link EvalMetrics}, or a task's own ({@link TaskMetrics}). */
export type Metrics = EvalMetrics | TaskMetrics;

/** True for classification figures (loss, top-1, top-5), false for a task's own. */
export function isEvalMetrics(m: Metrics): m is EvalMetrics {
  return typeof m.top1 === 'number' && typeof m.loss === 'number';
}

/** Options of {@link evaluate} and {@link evaluateModel}. */
export interface EvaluateOptions {
  /**
   * Called (and awaited) after every batch with the batches done, the loader's `batchesPerEpoch` and the images
   * done: progress output, never part of the result.
   */
  onProgress?: (p: { done: number; total: number; images: number }) => void | Promise<void>;
}

/**
 * Evaluates the tiny model (`min`) in eval mode (running statistics) on one full epoch of `loader`: mean
 * cross-entropy (no smoothing), top-1 and top-5 accuracy. The loader's position is restored afterwards.
 */
export async function evaluate(
  supernet: Supernet<tf.Tensor, tf.Variable>,
  loader: DataLoader,
  options: EvaluateOptions = {},
): Promise<EvalMetrics> {
  supernet.setActive('min');
  return evaluateModel((x) => supernet.forward(x, { training: false }), loader, options);
}

/**
 * Evaluates any model given as `predict(x) → logits` (e.g. a static model built from an exported ModelIR) on one
 * full epoch of `loader`; same metrics and loader handling as {@link evaluate}.
 */
export async function evaluateModel(
  predict: (x: tf.Tensor4D) => tf.Tensor,
  loader: DataLoader,
  options: EvaluateOptions = {},
): Promise<EvalMetrics> {
  const saved = loader.getState();
  let loss = 0;
  let c1 = 0;
  let c5 = 0;
  let count = 0;
  let done = 0;
  try {
    loader.setState({ ...saved, batch: 0 });
    for await (const batch of loader) {
      tf.tidy(() => {
        const x = tf.tensor4d(batch.images, batch.shape);
        const y = tf.tensor1d(batch.labels, 'int32');
        const logits = predict(x);
        const n = batch.labels.length;
        loss += crossEntropy(logits, y).dataSync()[0] * n;
        c1 += topKCorrect(logits, y, 1);
        c5 += topKCorrect(logits, y, 5);
        count += n;
      });
      await options.onProgress?.({ done: ++done, total: loader.batchesPerEpoch, images: count });
    }
  } finally {
    loader.setState(saved);
  }
  return { loss: loss / count, top1: c1 / count, top5: c5 / count, count };
}
