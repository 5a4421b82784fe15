import type { backend_util } from '@tensorflow/tfjs-core';

/** Output index range [lo, hi) whose input coordinate `o·stride + tapOffset − pad` lies in [0, size). */
export function validRange(
  size: number,
  outSize: number,
  stride: number,
  tapOffset: number,
  pad: number,
): [number, number] {
  const lo = Math.max(0, Math.ceil((pad - tapOffset) / stride));
  const hi = Math.min(outSize, Math.floor((size - 1 + pad - tapOffset) / stride) + 1);
  return [lo, Math.max(lo, hi)];
}

/**
 * Visits every (tap, image) pair of a depthwise convolution that touches the input: `tap = kh·KW + kw`, `xo` and
 * `d` the element offsets (NHWC, channel 0) of the first valid input pixel and its output pixel, `rows × cols` the
 * valid output block. The SIMD tap kernels walk such a block with the strides {@link tapRunStrides} gives.
 */
export function forEachTapRun(
  info: backend_util.Conv2DInfo,
  visit: (tap: number, xo: number, d: number, rows: number, cols: number) => void,
): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW } = info;
  const { dilationHeight: DH, dilationWidth: DW } = info;
  const { top, left } = info.padInfo;
  for (let kh = 0; kh < KH; kh++) {
    const [ohLo, ohHi] = validRange(H, OH, SH, kh * DH, top);
    if (ohHi <= ohLo) continue;
    for (let kw = 0; kw < KW; kw++) {
      const [owLo, owHi] = validRange(W, OW, SW, kw * DW, left);
      if (owHi <= owLo) continue;
      for (let n = 0; n < N; n++) {
        const xo = ((n * H + ohLo * SH + kh * DH - top) * W + owLo * SW + kw * DW - left) * C;
        const d = ((n * OH + ohLo) * OW + owLo) * C;
        visit(kh * KW + kw, xo, d, ohHi - ohLo, owHi - owLo);
      }
    }
  }
}

/** Byte strides of a tap run: input row, output row, input pixel, output pixel. */
export function tapRunStrides(info: backend_util.Conv2DInfo): [number, number, number, number] {
  const { inWidth: W, inChannels: C, outWidth: OW, strideHeight: SH, strideWidth: SW } = info;
  return [4 * SH * W * C, 4 * OW * C, 4 * SW * C, 4 * C];
}
