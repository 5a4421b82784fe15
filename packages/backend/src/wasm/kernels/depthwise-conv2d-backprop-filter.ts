import {
  backend_util,
  DepthwiseConv2dNativeBackpropFilter,
  type DepthwiseConv2dNativeBackpropFilterAttrs,
  type DepthwiseConv2dNativeBackpropFilterInputs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { allocF32, assertFloat32, heapF32, heapOffset, type WasmBackendLike } from '../wasm-backend';
import { simdTapKernels, type TapFn } from '../simd/tap-kernels';
import { forEachTapRun, tapRunStrides, validRange } from '../valid-range';

/**
 * Weight gradient of a depthwise convolution (NHWC, filter `[kh, kw, C, mult]`, output channel `c·mult + q`):
 * `dW[kh,kw,c,q] = Σ_{n,oh,ow} x[n, oh·sh + kh·dh − padTop, ow·sw + kw·dw − padLeft, c] · dy[n,oh,ow,c·mult+q]`.
 *
 * Tap-major loops over the wasm heap (no copies): for each filter tap, only the output rectangle whose
 * window tap falls inside the image is visited (no per-pixel bounds checks). With channels a multiple of 4
 * (and multiplier 1) the inner loops run in a small WebAssembly SIMD function working in place on the
 * backend's memory (f32x4, see ../simd/depthwise-filter-simd.ts); otherwise in JS with channel blocks of 4
 * and float64 scalar accumulators (~3× faster than a pixel-major JS loop). A formulation on XNNPACK's
 * depthwise convolution (dy as a per-(n,c) filter) was slower than both. Multiplier > 1 uses a plain loop.
 */
export function depthwiseConv2dNativeBackpropFilter(args: {
  inputs: DepthwiseConv2dNativeBackpropFilterInputs;
  backend: WasmBackendLike;
  attrs: DepthwiseConv2dNativeBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs;
  assertFloat32(DepthwiseConv2dNativeBackpropFilter, x, dy);
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  if (info.outChannels === info.inChannels && info.inChannels % 4 === 0) {
    const simd = simdTapKernels(backend);
    if (simd != null) return simdTapMajor(backend, simd.tapAcc, x, dy, info, filterShape);
  }
  const out = allocF32(backend, filterShape);
  const xv = heapF32(backend, x);
  const dyv = heapF32(backend, dy);
  const acc = new Float64Array(info.filterHeight * info.filterWidth * info.outChannels);
  if (info.outChannels === info.inChannels) tapMajor(xv, dyv, acc, info);
  else withMultiplier(xv, dyv, acc, info);
  heapF32(backend, out).set(acc);
  return out;
}

function simdTapMajor(
  backend: WasmBackendLike,
  tapAcc: TapFn,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  filterShape: [number, number, number, number],
): TensorInfo {
  const { inChannels: C } = info;
  const out = allocF32(backend, filterShape);
  heapF32(backend, out).fill(0);
  const outBase = heapOffset(backend, out);
  const aBase = heapOffset(backend, x);
  const dyBase = heapOffset(backend, dy);
  const [sxRow, sdRow, sxCol, sdCol] = tapRunStrides(info);
  forEachTapRun(info, (tap, xo, d, rows, cols) =>
    tapAcc(aBase + 4 * xo, dyBase + 4 * d, outBase + 4 * tap * C, rows, cols, sxRow, sdRow, sxCol, sdCol),
  );
  return out;
}

function tapMajor(
  xv: Float32Array,
  dyv: Float32Array,
  acc: Float64Array,
  info: backend_util.Conv2DInfo,
): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const {
    filterHeight: KH,
    filterWidth: KW,
    strideHeight: SH,
    strideWidth: SW,
    dilationHeight: DH,
    dilationWidth: DW,
  } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const xStep = SW * C;
  const C4 = C - (C % 4);
  for (let kh = 0; kh < KH; kh++) {
    const [ohLo, ohHi] = validRange(H, OH, SH, kh * DH, top);
    for (let kw = 0; kw < KW; kw++) {
      const [owLo, owHi] = validRange(W, OW, SW, kw * DW, left);
      const a = (kh * KW + kw) * C;
      for (let c0 = 0; c0 < C; c0 += 4) {
        const block = c0 < C4;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let n = 0; n < N; n++) {
          for (let oh = ohLo; oh < ohHi; oh++) {
            const ih = oh * SH + kh * DH - top;
            let xo = ((n * H + ih) * W + owLo * SW + kw * DW - left) * C + c0;
            let d = ((n * OH + oh) * OW + owLo) * C + c0;
            if (block) {
              for (let ow = owLo; ow < owHi; ow++, xo += xStep, d += C) {
                s0 += xv[xo] * dyv[d];
                s1 += xv[xo + 1] * dyv[d + 1];
                s2 += xv[xo + 2] * dyv[d + 2];
                s3 += xv[xo + 3] * dyv[d + 3];
              }
            } else {
              const r = C - c0; // 1..3 trailing channels
              for (let ow = owLo; ow < owHi; ow++, xo += xStep, d += C) {
                s0 += xv[xo] * dyv[d];
                if (r > 1) s1 += xv[xo + 1] * dyv[d + 1];
                if (r > 2) s2 += xv[xo + 2] * dyv[d + 2];
              }
            }
          }
        }
        acc[a + c0] += s0;
        if (c0 + 1 < C) acc[a + c0 + 1] += s1;
        if (c0 + 2 < C) acc[a + c0 + 2] += s2;
        if (c0 + 3 < C) acc[a + c0 + 3] += s3;
      }
    }
  }
}

function withMultiplier(
  xv: Float32Array,
  dyv: Float32Array,
  acc: Float64Array,
  info: backend_util.Conv2DInfo,
): void {
  const {
    batchSize: N,
    inHeight: H,
    inWidth: W,
    inChannels: C,
    outHeight: OH,
    outWidth: OW,
    outChannels: OC,
  } = info;
  const {
    filterHeight: KH,
    filterWidth: KW,
    strideHeight: SH,
    strideWidth: SW,
    dilationHeight: DH,
    dilationWidth: DW,
  } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const mult = OC / C;
  for (let kh = 0; kh < KH; kh++) {
    const [ohLo, ohHi] = validRange(H, OH, SH, kh * DH, top);
    for (let kw = 0; kw < KW; kw++) {
      const [owLo, owHi] = validRange(W, OW, SW, kw * DW, left);
      const a = (kh * KW + kw) * OC;
      for (let n = 0; n < N; n++) {
        for (let oh = ohLo; oh < ohHi; oh++) {
          const ih = oh * SH + kh * DH - top;
          for (let ow = owLo; ow < owHi; ow++) {
            const xo = ((n * H + ih) * W + ow * SW + kw * DW - left) * C;
            const d = ((n * OH + oh) * OW + ow) * OC;
            for (let c = 0; c < C; c++) {
              const xc = xv[xo + c];
              for (let q = 0; q < mult; q++) acc[a + c * mult + q] += xc * dyv[d + c * mult + q];
            }
          }
        }
      }
    }
  }
}

/** Kernel registration record for the wasm backend. */
export const depthwiseConv2dNativeBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilter as unknown as KernelFunc,
};
