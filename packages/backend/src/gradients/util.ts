import * as tf from '@tensorflow/tfjs-core';

/** What a gradient function returns: one thunk per differentiable input name (or index, for list inputs). */
export type InputGradients = Record<string, () => tf.Tensor>;

/** A gradient registration (tfjs' `GradConfig`) with a gradient function of the usual single-`dy` shape. */
export function gradient(
  kernelName: string,
  saves: { inputs?: string[]; outputs?: boolean[]; allInputs?: boolean },
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[], attrs: tf.NamedAttrMap) => InputGradients,
): tf.GradConfig {
  const config: tf.GradConfig = {
    kernelName,
    gradFunc: (dy, saved, attrs) => gradFunc(dy as tf.Tensor, saved, attrs),
  };
  if (saves.inputs) config.inputsToSave = saves.inputs;
  if (saves.outputs) config.outputsToSave = saves.outputs;
  if (saves.allInputs) config.saveAllInputs = true;
  return config;
}

/**
 * Sums a gradient of a broadcast result back to the shape of one operand (NumPy broadcasting: leading axes the
 * operand lacks, and axes where it has size 1, are summed over). Always returns a new tensor object (the engine
 * accumulates and disposes input gradients one by one, so two inputs must never share one).
 */
export function unbroadcast(g: tf.Tensor, shape: readonly number[]): tf.Tensor {
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return tf.reshape(axes.length > 0 ? tf.sum(g, axes) : g, [...shape]);
}

/** `axis` (a number, a list, or null for all) as a sorted list of non-negative axes of a rank-`rank` tensor. */
export function normAxes(axis: unknown, rank: number): number[] {
  const list =
    axis == null ? [...Array(rank).keys()] : Array.isArray(axis) ? (axis as number[]) : [axis as number];
  return [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
}

/** `shape` with the `axes` set to 1 (the shape a reduction keeps with `keepDims`). */
export function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** `dy` of a reduction over `axes` spread back over the input shape `shape`. */
export function spreadOver(dy: tf.Tensor, shape: readonly number[], axes: readonly number[]): tf.Tensor {
  return tf.broadcastTo(tf.reshape(dy, keptShape(shape, axes)), [...shape]);
}

/** `cond` (bool) as a float32 0/1 mask. */
export function mask(cond: tf.Tensor): tf.Tensor {
  return tf.cast(cond, 'float32');
}
