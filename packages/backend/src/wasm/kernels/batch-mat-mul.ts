import {
  BatchMatMul,
  getKernel,
  type BatchMatMulAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { withShape, type WasmBackendLike } from '../wasm-backend';
import { wasmAtb } from '../simd/atb-kernels';
import { ensureHeadroom, guardWasmMalloc } from '../malloc-guard';

/**
 * Smallest output side (rows and columns) for which a transposed product is rewritten onto XNNPACK; below it
 * the backend's scalar loop is as fast as transposing an operand.
 */
const MIN_SIDE = 8;

/**
 * Builds a replacement for tfjs-backend-wasm's `BatchMatMul`. The original runs XNNPACK only for
 * `transposeA = transposeB = false`; any transposed operand (every matMul gradient: `dA = dC·Bᵀ`,
 * `dB = Aᵀ·dC`) falls back to a scalar C++ triple loop (~1 GFLOP/s). Single-matrix products with one
 * transposed operand are rewritten here: `aᵀ·b` (a weight gradient) runs the project's SIMD block kernels
 * (`simd/atb-kernels`; 2–8× faster than transposing and packing for XNNPACK, measured on the 1×1 convolutions of
 * MobileNetV2-Tiny), `a·bᵀ` one physical transpose (the backend's own `Transpose` kernel) of the narrower
 * operand plus one non-transposed XNNPACK product.
 *
 * XNNPACK treats the right operand as weights: it packs a copy of it, cached until that tensor is disposed.
 * When the right operand is an activation bigger than the left one (e.g. `mean = 1/M · 1ᵀ·X`, or `Aᵀ·dC`),
 * that copy would live as long as the activation (the whole step for tensors saved for backprop), so it is
 * released right after the product.
 */
export function makeBatchMatMulConfig(native: KernelConfig): KernelConfig {
  const rawNative = native.kernelFunc as unknown as (args: {
    inputs: { a: TensorInfo; b: TensorInfo };
    backend: WasmBackendLike;
  }) => TensorInfo;
  // XNNPACK packs the right operand (rounded up to its tile sizes) in memory it allocates itself: make sure
  // that can succeed, else tfjs would return an unwritten output (see ensureHeadroom).
  const nativeFunc = (args: {
    inputs: { a: TensorInfo; b: TensorInfo };
    backend: WasmBackendLike;
    attrs: unknown;
  }) => {
    ensureHeadroom(args.backend, 4 * size(args.inputs.b) + (1 << 16));
    return rawNative(args);
  };
  const kernelFunc = (args: {
    inputs: { a: TensorInfo; b: TensorInfo };
    backend: WasmBackendLike;
    attrs: BatchMatMulAttrs;
  }) => {
    const { inputs, backend, attrs } = args;
    const { a, b } = inputs;
    guardWasmMalloc(backend);
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || batchOf(a) !== 1 || batchOf(b) !== 1)
      return nativeFunc(args);
    const tA = !!attrs.transposeA;
    const tB = !!attrs.transposeB;
    const [ar, ac] = a.shape.slice(-2);
    const [br, bc] = b.shape.slice(-2);
    const m = tA ? ac : ar;
    const k = tA ? ar : ac;
    const n = tB ? br : bc;
    const outShape = [...Array(Math.max(a.shape.length, b.shape.length) - 2).fill(1), m, n];
    if (!tA && !tB) {
      const out = nativeFunc(args);
      if (size(b) > size(a)) releasePackedWeights(backend, b);
      return out;
    }
    if ((tA && tB) || m < MIN_SIDE || n < MIN_SIDE || k < MIN_SIDE) return nativeFunc(args);
    const nn = (l: TensorInfo, r: TensorInfo): TensorInfo =>
      nativeFunc({ inputs: { a: l, b: r }, backend, attrs: { transposeA: false, transposeB: false } });
    if (tB) {
      // a[m,k]·b[n,k]ᵀ: transpose b (→ [k,n], a temporary, so its packed copy goes with it).
      const bT = transpose2d(backend, withShape(b, [n, k]));
      const out = nn(withShape(a, [m, k]), bT);
      backend.disposeData(bT.dataId);
      return withShape(out, outShape);
    }
    // a[k,m]ᵀ·b[k,n] (the weight gradient of a 1×1 convolution): the SIMD kernel where n allows, else transposes
    const simdOut = wasmAtb(backend, a, b, outShape, k, m, n);
    if (simdOut != null) return simdOut;
    if (m <= n) {
      const aT = transpose2d(backend, withShape(a, [k, m]));
      const out = nn(aT, withShape(b, [k, n]));
      backend.disposeData(aT.dataId);
      releasePackedWeights(backend, b);
      return withShape(out, outShape);
    }
    // (b[k,n]ᵀ·a[k,m])ᵀ: transpose the narrower b, and the small [n,m] result.
    const bT = transpose2d(backend, withShape(b, [k, n]));
    const outT = nn(bT, withShape(a, [k, m]));
    backend.disposeData(bT.dataId);
    releasePackedWeights(backend, a);
    const out = transpose2d(backend, outT);
    backend.disposeData(outT.dataId);
    return withShape(out, outShape);
  };
  return {
    kernelName: BatchMatMul,
    backendName: 'wasm',
    setupFunc: native.setupFunc,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}

function size(t: TensorInfo): number {
  let s = 1;
  for (const d of t.shape) s *= d;
  return s;
}

function batchOf(t: TensorInfo): number {
  let s = 1;
  for (let i = 0; i < t.shape.length - 2; i++) s *= t.shape[i];
  return t.shape.length < 2 ? 0 : s;
}

/** `[r, c] → [c, r]` with the wasm backend's own `Transpose` kernel (faster than a JS loop). */
function transpose2d(backend: WasmBackendLike, t: TensorInfo): TensorInfo {
  const kernel = getKernel('Transpose', 'wasm')!;
  return kernel.kernelFunc({ inputs: { x: t }, backend, attrs: { perm: [1, 0] } }) as TensorInfo;
}

interface TfjsModule {
  disposeData(id: number): void;
  registerTensor(id: number, size: number, memoryOffset: number): void;
}

/**
 * Drops the XNNPACK operators (and their packed weight copies) cached on `t`, keeping `t` itself: the C++
 * side runs its disposal callbacks in `disposeData`, then the same id is registered again at the same
 * address (the memory itself is owned and freed by the JS side).
 */
function releasePackedWeights(backend: WasmBackendLike, t: TensorInfo): void {
  const entry = backend.dataIdMap.get(t.dataId);
  const tfjs = (backend.wasm as unknown as { tfjs?: TfjsModule }).tfjs;
  if (entry == null || tfjs == null) return;
  tfjs.disposeData(entry.id);
  tfjs.registerTensor(entry.id, size(t), entry.memoryOffset);
}
