import * as tf from '@tensorflow/tfjs-core';
import type { IRTensor } from '@netaug/core';

/** Row-major strides of a shape. */
function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  s[shape.length - 1] = 1;
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1] * shape[d + 1];
  return s;
}

/**
 * Visits the leading block `sizes` of a row-major array of shape `shape` as contiguous runs along the last
 * axis: `visit(srcOffset, blockOffset, runLength)`.
 */
function forEachRun(
  shape: readonly number[],
  sizes: readonly number[],
  visit: (src: number, dst: number, run: number) => void,
): void {
  const rank = shape.length;
  if (sizes.some((s) => s === 0)) return;
  const strides = stridesOf(shape);
  const run = sizes[rank - 1];
  const idx = new Array<number>(rank - 1).fill(0);
  let dst = 0;
  for (;;) {
    let src = 0;
    for (let d = 0; d < rank - 1; d++) src += idx[d] * strides[d];
    visit(src, dst, run);
    dst += run;
    let d = rank - 2;
    while (d >= 0 && ++idx[d] === sizes[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

/** Copies the leading block `sizes` out of a row-major array of shape `shape`. */
export function copyLeadingBlock(
  data: Float32Array,
  shape: readonly number[],
  sizes: readonly number[],
): Float32Array {
  const out = new Float32Array(sizes.reduce((a, b) => a * b, 1));
  forEachRun(shape, sizes, (src, dst, run) => out.set(data.subarray(src, src + run), dst));
  return out;
}

/** Zero-pads a block of shape `sizes` at the start of every axis to `shape` (the inverse of {@link copyLeadingBlock}). */
export function padLeadingBlock(
  block: Float32Array,
  sizes: readonly number[],
  shape: readonly number[],
): Float32Array {
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  forEachRun(shape, sizes, (dst, src, run) => out.set(block.subarray(src, src + run), dst));
  return out;
}

/** Whether the leading block is one contiguous range: axes before the last partial axis take only index 0. */
function isContiguous(shape: readonly number[], sizes: readonly number[]): boolean {
  let p = shape.length - 1;
  while (p >= 0 && sizes[p] === shape[p]) p--;
  for (let d = 0; d < p; d++) if (sizes[d] !== 1) return false;
  return true;
}

/**
 * tfjs-backend-cpu slices non-contiguous blocks element by element with index arithmetic (≈100× slower than a
 * conv of the same size); on that backend the block is copied in JS by contiguous runs, with a matching
 * zero-padding gradient. Other backends use `tf.slice` (whose gradient is `tf.pad`).
 */
function cpuSliceFirst<T extends tf.Tensor>(t: T, sizes: readonly number[]): T {
  const slice = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    const shape = x.shape;
    const value = tf.tensor(
      copyLeadingBlock(x.dataSync() as Float32Array, shape, sizes),
      sizes as number[],
      'float32',
    );
    const gradFunc = (dy: tf.Tensor) =>
      tf.tensor(padLeadingBlock(dy.dataSync() as Float32Array, sizes, shape), shape, 'float32');
    return { value, gradFunc };
  });
  return slice(t) as T;
}

/**
 * The leading block `t[:sizes[0], :sizes[1], ...]` of a float32 tensor (NetAug's "first channels" rule),
 * differentiable. Returns `t` itself, without a copy, when `sizes` equals its shape.
 */
export function sliceFirst<T extends tf.Tensor>(t: T, sizes: readonly number[]): T {
  if (sizes.every((s, i) => s === t.shape[i])) return t;
  if (tf.getBackend() === 'cpu' && !isContiguous(t.shape, sizes)) return cpuSliceFirst(t, sizes);
  return tf.slice(
    t,
    sizes.map(() => 0),
    sizes as number[],
  ) as T;
}

/** A copy of the leading block of `t` as an IR tensor (for `extract()`); reads `t` synchronously. */
export function sliceFirstToIR(t: tf.Tensor, sizes: readonly number[]): IRTensor {
  return { shape: [...sizes], data: copyLeadingBlock(t.dataSync() as Float32Array, t.shape, sizes) };
}
