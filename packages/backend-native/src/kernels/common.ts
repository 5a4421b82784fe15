import type * as tf from '@tensorflow/tfjs-core';
import type { NativeAddon } from '../addon';

/** The parts of tfjs-backend-cpu's `MathBackendCPU` the kernels use (its tensors are plain typed arrays). */
export interface CpuBackendLike {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array): tf.TensorInfo;
  disposeIntermediateTensorInfo(t: tf.TensorInfo): void;
}

/** Arguments of a tfjs kernel function on this backend. */
export interface KernelArgs<I extends string = string, A = Record<string, unknown>> {
  inputs: Record<I, tf.TensorInfo>;
  backend: CpuBackendLike;
  attrs: A;
}

/** What a native kernel needs besides its arguments. */
export interface KernelContext {
  addon: NativeAddon;
  /** An output array of `n` elements, recycled when possible (contents undefined: write every element). */
  alloc(n: number): Float32Array;
  /** Runs the `cpu` backend's kernel of the same name (unsupported layouts / dtypes). */
  fallback(kernelName: string, args: object): tf.TensorInfo | tf.TensorInfo[];
  /** Runs the `cpu` kernel by design (tiny tensors, cases the JS kernel handles as fast); not counted. */
  cpu(kernelName: string, args: object): tf.TensorInfo | tf.TensorInfo[];
}

/** Float32 values of a tensor, or null when it is not a float32 tensor of the cpu backend. */
export function f32Values(backend: CpuBackendLike, t: tf.TensorInfo | undefined): Float32Array | null {
  if (t == null || t.dtype !== 'float32') return null;
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : null;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
