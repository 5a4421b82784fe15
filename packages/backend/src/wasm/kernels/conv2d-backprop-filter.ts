import {
  backend_util,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropFilterInputs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import {
  allocF32,
  assertChannelsLast,
  assertFloat32,
  heapF32,
  wasmMatMul,
  withShape,
  type WasmBackendLike,
} from '../wasm-backend';
import { transposeInto } from '../transpose';
import { wasmAtb } from '../simd/atb-kernels';

/** Largest im2col buffer (in floats, 64 MiB) built at once; bigger batches are processed in chunks of images. */
const DEFAULT_MAX_COLS_FLOATS = 1 << 24;
let maxColsFloats = DEFAULT_MAX_COLS_FLOATS;

/** @internal Changes the im2col chunk limit (tests exercise the chunked path on small shapes); null resets. */
export function setIm2colChunkLimitForTests(floats: number | null): void {
  maxColsFloats = floats ?? DEFAULT_MAX_COLS_FLOATS;
}

type Info = backend_util.Conv2DInfo;

/**
 * Weight gradient of a 2-D convolution (NHWC, filter `[kh, kw, inC, outC]`):
 * `dW[kh,kw,ci,co] = Σ_{n,oh,ow} x[n, oh·sh + kh − padTop, ow·sw + kw − padLeft, ci] · dy[n,oh,ow,co]`.
 *
 * Computed as one matrix product on the backend's XNNPACK matmul:
 * - 1×1, stride 1, no padding: `dW = xᵀ · dy` with `x` viewed as `[N·H·W, inC]` — the SIMD `aᵀ·b` kernels
 *   where outC is a multiple of 4, else only the narrower of `x`/`dy` is transposed (in JS) and the other
 *   operand is passed to the matmul without a copy;
 * - otherwise: `dW = colsᵀ · dy` where `colsᵀ` (`[kh·kw·inC, N·OH·OW]`) is an im2col matrix written
 *   directly in transposed layout, so the product lands in the filter's `[kh,kw,inC,outC]` layout.
 */
export function conv2DBackpropFilter(args: {
  inputs: Conv2DBackpropFilterInputs;
  backend: WasmBackendLike;
  attrs: Conv2DBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  assertFloat32(Conv2DBackpropFilter, x, dy);
  assertChannelsLast(Conv2DBackpropFilter, dataFormat);
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const M = info.batchSize * info.outHeight * info.outWidth;
  if (M === 0) {
    const out = allocF32(backend, filterShape);
    heapF32(backend, out).fill(0);
    return out;
  }
  const pointwise =
    info.filterHeight === 1 &&
    info.filterWidth === 1 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    info.outHeight === info.inHeight &&
    info.outWidth === info.inWidth;
  return pointwise
    ? pointwiseFilterGrad(backend, x, dy, info, filterShape)
    : im2colFilterGrad(backend, x, dy, info, filterShape);
}

function pointwiseFilterGrad(
  backend: WasmBackendLike,
  x: TensorInfo,
  dy: TensorInfo,
  info: Info,
  filterShape: number[],
): TensorInfo {
  const M = info.batchSize * info.outHeight * info.outWidth;
  const cin = info.inChannels;
  const cout = info.outChannels;
  const simdOut = wasmAtb(backend, x, dy, filterShape, M, cin, cout);
  if (simdOut != null) return simdOut;
  if (cin <= cout) {
    const xT = allocF32(backend, [1, cin, M]);
    transposeInto(heapF32(backend, x), 0, heapF32(backend, xT), 0, M, cin);
    const prod = wasmMatMul(backend, xT, withShape(dy, [1, M, cout]));
    backend.disposeData(xT.dataId);
    return { dataId: prod.dataId, shape: filterShape, dtype: 'float32' };
  }
  const dyT = allocF32(backend, [1, cout, M]);
  transposeInto(heapF32(backend, dy), 0, heapF32(backend, dyT), 0, M, cout);
  const prod = wasmMatMul(backend, dyT, withShape(x, [1, M, cin]));
  backend.disposeData(dyT.dataId);
  const out = allocF32(backend, filterShape);
  transposeInto(heapF32(backend, prod), 0, heapF32(backend, out), 0, cout, cin);
  backend.disposeData(prod.dataId);
  return out;
}

function im2colFilterGrad(
  backend: WasmBackendLike,
  x: TensorInfo,
  dy: TensorInfo,
  info: Info,
  filterShape: number[],
): TensorInfo {
  const {
    batchSize: N,
    outHeight: OH,
    outWidth: OW,
    inChannels: cin,
    outChannels: cout,
    filterHeight: KH,
    filterWidth: KW,
  } = info;
  const K = KH * KW * cin;
  const pixels = OH * OW;
  const imagesPerChunk = Math.max(1, Math.min(N, Math.floor(maxColsFloats / (K * pixels))));
  if (imagesPerChunk === N) {
    const colsT = allocF32(backend, [1, K, N * pixels]);
    fillColsT(heapF32(backend, x), heapF32(backend, colsT), info, 0, N);
    const prod = wasmMatMul(backend, colsT, withShape(dy, [1, N * pixels, cout]));
    backend.disposeData(colsT.dataId);
    return { dataId: prod.dataId, shape: filterShape, dtype: 'float32' };
  }
  const acc = new Float64Array(K * cout);
  for (let n0 = 0; n0 < N; n0 += imagesPerChunk) {
    const n1 = Math.min(N, n0 + imagesPerChunk);
    const mc = (n1 - n0) * pixels;
    const colsT = allocF32(backend, [1, K, mc]);
    const dyChunk = allocF32(backend, [1, mc, cout]);
    fillColsT(heapF32(backend, x), heapF32(backend, colsT), info, n0, n1);
    heapF32(backend, dyChunk).set(heapF32(backend, dy).subarray(n0 * pixels * cout, n1 * pixels * cout));
    const prod = wasmMatMul(backend, colsT, dyChunk);
    const p = heapF32(backend, prod);
    for (let i = 0; i < acc.length; i++) acc[i] += p[i];
    backend.disposeData(colsT.dataId);
    backend.disposeData(dyChunk.dataId);
    backend.disposeData(prod.dataId);
  }
  const out = allocF32(backend, filterShape);
  heapF32(backend, out).set(acc);
  return out;
}

/**
 * Writes the transposed im2col matrix of images `[n0, n1)`: row `(kh·KW + kw)·inC + ci`, column
 * `((n − n0)·OH + oh)·OW + ow`, zero where the window falls into padding. Rows are written contiguously.
 */
function fillColsT(x: Float32Array, colsT: Float32Array, info: Info, n0: number, n1: number): void {
  const {
    inHeight: H,
    inWidth: W,
    inChannels: C,
    outHeight: OH,
    outWidth: OW,
    filterHeight: KH,
    filterWidth: KW,
  } = info;
  const { strideHeight: SH, strideWidth: SW } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const mc = (n1 - n0) * OH * OW;
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      // Valid output columns for this kw: 0 <= ow*SW + kw - left < W.
      const owLo = Math.max(0, Math.ceil((left - kw) / SW));
      const owHi = Math.min(OW, Math.floor((W - 1 + left - kw) / SW) + 1);
      for (let ci = 0; ci < C; ci++) {
        let o = ((kh * KW + kw) * C + ci) * mc;
        for (let n = n0; n < n1; n++) {
          for (let oh = 0; oh < OH; oh++, o += OW) {
            const ih = oh * SH + kh - top;
            if (ih < 0 || ih >= H || owHi <= owLo) {
              colsT.fill(0, o, o + OW);
              continue;
            }
            for (let ow = 0; ow < owLo; ow++) colsT[o + ow] = 0;
            let s = ((n * H + ih) * W + owLo * SW + kw - left) * C + ci;
            const step = SW * C;
            for (let ow = owLo; ow < owHi; ow++, s += step) colsT[o + ow] = x[s];
            for (let ow = Math.max(owHi, owLo); ow < OW; ow++) colsT[o + ow] = 0;
          }
        }
      }
    }
  }
}

/** Kernel registration record for the wasm backend. */
export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
