/**
 * Straightforward JS versions of the gradient kernels (the "before": pixel-major loops over NHWC
 * Float32Arrays, as a first port would write them), used by kernels.mjs as the naive baseline.
 * p = {N, H, W, C, OH, OW, KH, KW, SH, SW, top, left, CO}.
 */

export function conv2dBackpropFilterNaive(x, dy, p) {
  const { N, H, W, C, OH, OW, KH, KW, SH, SW, top, left, CO } = p;
  const dw = new Float32Array(KH * KW * C * CO);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        const d = ((n * OH + oh) * OW + ow) * CO;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * SH + kh - top;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * SW + kw - left;
            if (iw < 0 || iw >= W) continue;
            const xo = ((n * H + ih) * W + iw) * C;
            for (let ci = 0; ci < C; ci++) {
              const xv = x[xo + ci];
              const o = ((kh * KW + kw) * C + ci) * CO;
              for (let co = 0; co < CO; co++) dw[o + co] += xv * dy[d + co];
            }
          }
        }
      }
  return dw;
}

export function depthwiseBackpropFilterNaive(x, dy, p) {
  const { N, H, W, C, OH, OW, KH, KW, SH, SW, top, left } = p;
  const dw = new Float32Array(KH * KW * C);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        const d = ((n * OH + oh) * OW + ow) * C;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * SH + kh - top;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * SW + kw - left;
            if (iw < 0 || iw >= W) continue;
            const xo = ((n * H + ih) * W + iw) * C;
            const o = (kh * KW + kw) * C;
            for (let c = 0; c < C; c++) dw[o + c] += x[xo + c] * dy[d + c];
          }
        }
      }
  return dw;
}

export function depthwiseBackpropInputNaive(dy, w, p) {
  const { N, H, W, C, OH, OW, KH, KW, SH, SW, top, left } = p;
  const dx = new Float32Array(N * H * W * C);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        const d = ((n * OH + oh) * OW + ow) * C;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * SH + kh - top;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * SW + kw - left;
            if (iw < 0 || iw >= W) continue;
            const xo = ((n * H + ih) * W + iw) * C;
            const o = (kh * KW + kw) * C;
            for (let c = 0; c < C; c++) dx[xo + c] += dy[d + c] * w[o + c];
          }
        }
      }
  return dx;
}
