import { getKernel, type DataType, type KernelBackend, type TensorInfo } from '@tensorflow/tfjs-core';
import { NetAugError } from '@netaug/core';

/**
 * The parts of tfjs-backend-wasm's `BackendWasm` that the gradient kernels use. Declared structurally so
 * this package does not import the wasm backend's classes (it is an optional peer dependency).
 */
export interface WasmBackendLike extends KernelBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
}

/**
 * A Float32Array view of a float32 tensor's bytes on the wasm heap (no copy).
 * Views are invalidated when the heap grows (any allocation may grow it): take views after allocating.
 */
export function heapF32(backend: WasmBackendLike, t: TensorInfo): Float32Array {
  const entry = backend.dataIdMap.get(t.dataId);
  if (entry == null) throw new NetAugError('INTERNAL', 'Tensor data not found on the wasm backend.');
  let size = 1;
  for (const d of t.shape) size *= d;
  return new Float32Array(backend.wasm.HEAPU8.buffer, entry.memoryOffset, size);
}

/** Byte offset of a tensor's data in the wasm heap. */
export function heapOffset(backend: WasmBackendLike, t: TensorInfo): number {
  const entry = backend.dataIdMap.get(t.dataId);
  if (entry == null) throw new NetAugError('INTERNAL', 'Tensor data not found on the wasm backend.');
  return entry.memoryOffset;
}

/** Allocates an uninitialised float32 tensor on the wasm heap. Free it with `backend.disposeData`. */
export function allocF32(backend: WasmBackendLike, shape: number[]): TensorInfo {
  return backend.makeOutput(shape, 'float32');
}

/** Throws UNSUPPORTED_OP unless every input is float32. */
export function assertFloat32(kernelName: string, ...tensors: TensorInfo[]): void {
  for (const t of tensors) {
    if (t.dtype !== 'float32') {
      throw new NetAugError('UNSUPPORTED_OP', `${kernelName} on wasm supports float32 only, got ${t.dtype}.`);
    }
  }
}

/** Throws UNSUPPORTED_OP for NCHW data: the kernels here are written for NHWC (tfjs' default). */
export function assertChannelsLast(kernelName: string, dataFormat: string | undefined): void {
  if (dataFormat != null && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new NetAugError('UNSUPPORTED_OP', `${kernelName} on wasm supports NHWC only, got ${dataFormat}.`, {
      hint: 'Use dataFormat "NHWC".',
    });
  }
}

/**
 * `a[1,m,k] · b[1,k,n] → [1,m,n]` with the wasm backend's own BatchMatMul kernel (XNNPACK). Both inputs
 * must be laid out row-major without transposition: XNNPACK's fast path is the non-transposed one
 * (transposeA/transposeB were measured 10–20× slower here).
 */
export function wasmMatMul(backend: WasmBackendLike, a: TensorInfo, b: TensorInfo): TensorInfo {
  const kernel = getKernel('BatchMatMul', 'wasm');
  if (kernel == null) throw new NetAugError('INTERNAL', 'The wasm backend has no BatchMatMul kernel.');
  return kernel.kernelFunc({
    inputs: { a, b },
    backend,
    attrs: { transposeA: false, transposeB: false },
  }) as TensorInfo;
}

/** A view of `t` with another shape (same data, no ref-count change): only for passing to kernels. */
export function withShape(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}
