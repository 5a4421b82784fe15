import * as tf from '@tensorflow/tfjs-core';
import type { DataLoader, Supernet } from '@netaug/core';

/** Options of {@link reestimateBatchNorm}. */
export interface BnReestimationOptions {
  /** Training images to average over (default 2000; official: 16k on ImageNet). */
  images?: number;
  /**
   * Called (and awaited) after every batch with the images averaged so far and the images asked for (`images`,
   * at most the loader's dataset size): progress output, never part of the result.
   */
  onProgress?: (p: { done: number; total: number }) => void | Promise<void>;
}

/**
 * Re-estimates the batch-norm running statistics of the tiny model (`min`) on the first `images` images of the
 * loader's current epoch, with cumulative-average semantics (PyTorch's `momentum=None`): the result is the
 * image-weighted mean over batches of the batch statistics — running mean = exact mean over the images, running
 * variance = mean of the per-batch variances (as the authors' `reset_bn`). Weights are not touched; statistics of
 * inactive channels are kept; the loader's position is restored.
 *
 * Works with any supernet whose non-trainable variables are exponential moving averages updated by training-mode
 * forwards (`running ← (1 − m)·running + m·batch`, constant `m`): the statistics are zeroed before each forward so
 * the forward leaves `m·batch`, and `m` itself is measured once per element (a forward from ones minus one from
 * zeros leaves `1 − m`). Elements a forward does not update (inactive channels) measure `m = 0` and are restored.
 */
export async function reestimateBatchNorm(
  supernet: Supernet<tf.Tensor, tf.Variable>,
  loader: DataLoader,
  options: BnReestimationOptions = {},
): Promise<number> {
  const images = options.images ?? 2000;
  const stats = supernet.variables().filter((v) => !v.trainable);
  const saved = loader.getState();
  const original = stats.map((v) => new Float32Array(v.variable.dataSync() as Float32Array));
  const sums = stats.map((v) => new Float64Array(v.variable.size));
  let momentum: Float32Array[] | null = null;
  const fill = (value: number) => {
    for (const v of stats) tf.tidy(() => v.variable.assign(tf.fill(v.variable.shape, value)));
  };
  supernet.setActive('min');
  let seen = 0;
  try {
    loader.setState({ ...saved, batch: 0 });
    for await (const batch of loader) {
      const n = Math.min(batch.labels.length, images - seen);
      const [, h, w, c] = batch.shape;
      const x = tf.tensor4d(batch.images.subarray(0, n * h * w * c), [n, h, w, c]);
      const forward = (start: number) => {
        fill(start);
        tf.tidy(() => void supernet.forward(x, { training: true }));
        return stats.map((v) => new Float32Array(v.variable.dataSync() as Float32Array));
      };
      try {
        const fromOnes: Float32Array[] | null = momentum ? null : forward(1);
        const fromZeros = forward(0);
        if (fromOnes) momentum = fromOnes.map((a, k) => a.map((v, i) => 1 - (v - fromZeros[k][i])));
        fromZeros.forEach((a, k) => a.forEach((v, i) => (sums[k][i] += n * v)));
      } finally {
        x.dispose();
      }
      seen += n;
      await options.onProgress?.({ done: seen, total: Math.min(images, loader.dataset.size) });
      if (seen >= images) break;
    }
  } finally {
    loader.setState(saved);
    stats.forEach((v, k) => {
      const m = momentum?.[k];
      const out = original[k].map((o, i) => (m && seen > 0 && m[i] > 1e-6 ? sums[k][i] / (seen * m[i]) : o));
      tf.tidy(() => v.variable.assign(tf.tensor(out, v.variable.shape)));
    });
  }
  return seen;
}

/** Copies of every non-trainable variable (batch-norm running statistics), to restore after an evaluation. */
export function snapshotStatistics(supernet: Supernet<tf.Tensor, tf.Variable>): Map<string, tf.Tensor> {
  const snap = new Map<string, tf.Tensor>();
  for (const v of supernet.variables()) if (!v.trainable) snap.set(v.name, tf.clone(v.variable));
  return snap;
}

/** Restores and disposes a {@link snapshotStatistics} snapshot. */
export function restoreStatistics(
  supernet: Supernet<tf.Tensor, tf.Variable>,
  snap: Map<string, tf.Tensor>,
): void {
  for (const v of supernet.variables()) {
    const t = snap.get(v.name);
    if (t) v.variable.assign(t);
  }
  for (const t of snap.values()) t.dispose();
}
