import {
  backend_util,
  DepthwiseConv2dNativeBackpropInput,
  getKernel,
  type DepthwiseConv2dNativeBackpropInputAttrs,
  type DepthwiseConv2dNativeBackpropInputInputs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { allocF32, assertFloat32, heapF32, heapOffset, type WasmBackendLike } from '../wasm-backend';
import { simdTapKernels, type TapFn } from '../simd/tap-kernels';
import { forEachTapRun, tapRunStrides } from '../valid-range';

/**
 * Input gradient of a depthwise convolution (NHWC, filter `[kh, kw, C, mult]`):
 * `dx[n,ih,iw,c] = Σ_{oh,ow,kh,kw,q : ih = oh·sh + kh·dh − padTop, iw = ow·sw + kw·dw − padLeft} dy[n,oh,ow,c·mult+q] · w[kh,kw,c,q]`.
 *
 * Channel multiplier 1, in order of preference:
 * - stride 1: `dx` is a depthwise convolution of `dy` with the spatially flipped filter, on the backend's
 *   own XNNPACK kernel (measured ~10× faster than a JS scatter loop);
 * - channels a multiple of 4: a tap-major scatter in a small WebAssembly SIMD function working in place on
 *   the backend's memory (../simd/tap-kernels.ts);
 * - otherwise `dx` splits into `s²` stride phases (`ih mod s`, `iw mod s`), each a stride-1 XNNPACK depthwise
 *   convolution of `dy` with the flipped sub-filter of that phase's taps, interleaved into `dx`.
 * Other cases (multiplier > 1, dilation, unusual padding) use a JS scatter loop over the wasm heap.
 */
export function depthwiseConv2dNativeBackpropInput(args: {
  inputs: DepthwiseConv2dNativeBackpropInputInputs;
  backend: WasmBackendLike;
  attrs: DepthwiseConv2dNativeBackpropInputAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs;
  assertFloat32(DepthwiseConv2dNativeBackpropInput, dy, filter);
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  const xnnpack = getKernel('DepthwiseConv2dNative', 'wasm');
  if (
    xnnpack != null &&
    info.outChannels === info.inChannels &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    info.outHeight > 0 &&
    info.outWidth > 0
  ) {
    const simd =
      info.strideHeight * info.strideWidth > 1 && info.inChannels % 4 === 0 ? simdTapKernels(backend) : null;
    if (simd != null) return simdScatter(backend, simd.tapScatter, dy, filter, info, inputShape);
    const phases = planPhases(info);
    if (phases != null)
      return phaseConvolutions(backend, dy, filter, info, inputShape, phases, xnnpack.kernelFunc);
  }
  return scatter(backend, dy, filter, info, inputShape);
}

function simdScatter(
  backend: WasmBackendLike,
  tapScatter: TapFn,
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
  inputShape: [number, number, number, number],
): TensorInfo {
  const { inChannels: C } = info;
  const out = allocF32(backend, inputShape);
  heapF32(backend, out).fill(0);
  const outBase = heapOffset(backend, out);
  const aBase = heapOffset(backend, filter);
  const dyBase = heapOffset(backend, dy);
  const [sxRow, sdRow, sxCol, sdCol] = tapRunStrides(info);
  forEachTapRun(info, (tap, xo, d, rows, cols) =>
    tapScatter(outBase + 4 * xo, dyBase + 4 * d, aBase + 4 * tap * C, rows, cols, sxRow, sdRow, sxCol, sdCol),
  );
  return out;
}

/** One phase `p` (input index ≡ p mod stride) of one spatial dimension. */
interface Phase {
  p: number;
  /** Taps of this phase: k0, k0 + s, …, count `taps` (0: the phase receives no gradient). */
  k0: number;
  taps: number;
  /** Output positions of this phase: ceil((size − p) / s). */
  count: number;
  padBefore: number;
  padAfter: number;
}

function planDim(size: number, outSize: number, k: number, s: number, pad: number): Phase[] | null {
  const phases: Phase[] = [];
  for (let p = 0; p < s; p++) {
    const count = Math.ceil((size - p) / s);
    const k0 = (((p + pad) % s) + s) % s;
    const taps = k0 < k ? Math.ceil((k - k0) / s) : 0;
    const base = (p + pad - k0) / s; // dy index of the first tap for output q = 0
    const padBefore = taps - 1 - base;
    const padAfter = count - outSize - padBefore + taps - 1;
    if (taps > 0 && (padBefore < 0 || padAfter < 0)) return null;
    phases.push({ p, k0, taps, count, padBefore, padAfter });
  }
  return phases;
}

function planPhases(info: backend_util.Conv2DInfo): { h: Phase[]; w: Phase[] } | null {
  const h = planDim(info.inHeight, info.outHeight, info.filterHeight, info.strideHeight, info.padInfo.top);
  const w = planDim(info.inWidth, info.outWidth, info.filterWidth, info.strideWidth, info.padInfo.left);
  return h != null && w != null ? { h, w } : null;
}

function phaseConvolutions(
  backend: WasmBackendLike,
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
  inputShape: [number, number, number, number],
  phases: { h: Phase[]; w: Phase[] },
  depthwiseConv: KernelFunc,
): TensorInfo {
  const {
    batchSize: N,
    inHeight: H,
    inWidth: W,
    inChannels: C,
    filterWidth: KW,
    strideHeight: SH,
    strideWidth: SW,
  } = info;
  const single = SH === 1 && SW === 1;
  const out = single ? null : allocF32(backend, inputShape);
  for (const ph of phases.h) {
    for (const pw of phases.w) {
      if (ph.count <= 0 || pw.count <= 0) continue;
      if (ph.taps === 0 || pw.taps === 0) {
        if (out != null) fillPhase(heapF32(backend, out), null, N, H, W, C, SH, SW, ph, pw);
        continue;
      }
      // Flipped sub-filter of this phase: sub[a, b] = w[k0h + SH·(Jh−1−a), k0w + SW·(Jw−1−b)].
      const sub = allocF32(backend, [ph.taps, pw.taps, C, 1]);
      const wv = heapF32(backend, filter);
      const sv = heapF32(backend, sub);
      for (let a = 0; a < ph.taps; a++) {
        for (let b = 0; b < pw.taps; b++) {
          const src = ((ph.k0 + SH * (ph.taps - 1 - a)) * KW + (pw.k0 + SW * (pw.taps - 1 - b))) * C;
          sv.set(wv.subarray(src, src + C), (a * pw.taps + b) * C);
        }
      }
      const res = depthwiseConv({
        inputs: { x: dy, filter: sub },
        backend,
        attrs: {
          strides: [1, 1],
          dilations: [1, 1],
          pad: [
            [0, 0],
            [ph.padBefore, ph.padAfter],
            [pw.padBefore, pw.padAfter],
            [0, 0],
          ],
          dataFormat: 'NHWC',
        },
      }) as TensorInfo;
      backend.disposeData(sub.dataId);
      if (out == null) return res; // stride 1: the single phase is dx
      fillPhase(heapF32(backend, out), heapF32(backend, res), N, H, W, C, SH, SW, ph, pw);
      backend.disposeData(res.dataId);
    }
  }
  if (out == null) {
    // stride 1 and no tap reached the input (cannot happen for valid conv shapes); keep the contract.
    const zeros = allocF32(backend, inputShape);
    heapF32(backend, zeros).fill(0);
    return zeros;
  }
  return out;
}

/** Copies phase result `src` ([N, ph.count, pw.count, C]) into dx at rows ph.p + SH·q, columns pw.p + SW·r; zeros if src is null. */
function fillPhase(
  dx: Float32Array,
  src: Float32Array | null,
  N: number,
  H: number,
  W: number,
  C: number,
  SH: number,
  SW: number,
  ph: Phase,
  pw: Phase,
): void {
  let s = 0;
  for (let n = 0; n < N; n++) {
    for (let q = 0; q < ph.count; q++) {
      let o = ((n * H + ph.p + SH * q) * W + pw.p) * C;
      for (let r = 0; r < pw.count; r++, o += SW * C) {
        if (src == null) {
          dx.fill(0, o, o + C);
        } else if (C >= 32) {
          dx.set(src.subarray(s, s + C), o);
          s += C;
        } else {
          for (let c = 0; c < C; c++) dx[o + c] = src[s + c];
          s += C;
        }
      }
    }
  }
}

function scatter(
  backend: WasmBackendLike,
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
  inputShape: [number, number, number, number],
): TensorInfo {
  const {
    batchSize: N,
    inHeight: H,
    inWidth: W,
    inChannels: C,
    outHeight: OH,
    outWidth: OW,
    outChannels: OC,
  } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW } = info;
  const { dilationHeight: DH, dilationWidth: DW } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const mult = OC / C;

  const out = allocF32(backend, inputShape);
  const dx = heapF32(backend, out);
  dx.fill(0);
  const dyv = heapF32(backend, dy);
  const wv = heapF32(backend, filter);

  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * SH - top;
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * SW - left;
        const dyOff = ((n * OH + oh) * OW + ow) * OC;
        for (let kh = 0; kh < KH; kh++) {
          const ih = ih0 + kh * DH;
          if (ih < 0 || ih >= H) continue;
          const rowOff = (n * H + ih) * W;
          for (let kw = 0; kw < KW; kw++) {
            const iw = iw0 + kw * DW;
            if (iw < 0 || iw >= W) continue;
            const dxOff = (rowOff + iw) * C;
            const wOff = (kh * KW + kw) * OC;
            for (let c = 0; c < C; c++) {
              const o = c * mult;
              let s = 0;
              for (let q = 0; q < mult; q++) s += dyv[dyOff + o + q] * wv[wOff + o + q];
              dx[dxOff + c] += s;
            }
          }
        }
      }
    }
  }
  return out;
}

/** Kernel registration record for the wasm backend. */
export const depthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput as unknown as KernelFunc,
};
