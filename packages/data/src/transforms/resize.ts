import type { Rng, Shape3 } from '@netaug/core';
import type { Image } from '../types';
import { toSize, type Transform } from './transform';

/**
 * Bilinear resampling of the window `(top, left, h, w)` of `img` to `outH × outW`, with the half-pixel
 * convention (`align_corners=False`, as PyTorch `interpolate`, torchvision `Resize(antialias=False)`,
 * TF `resize_bilinear(half_pixel_centers=True)`): the source coordinate of output pixel `x` is
 * `left + (x + 0.5) · w / outW − 0.5`, clamped to the window. No antialiasing: when shrinking by more than
 * 2× use a decode-time resize (sharp) first.
 */
export function resizeBilinear(
  img: Image,
  outH: number,
  outW: number,
  top = 0,
  left = 0,
  h = img.height,
  w = img.width,
): Image {
  const c = img.channels;
  const src = img.data;
  const out = new Float32Array(outH * outW * c);
  const x0s = new Int32Array(outW);
  const x1s = new Int32Array(outW);
  const fx = new Float32Array(outW);
  const sx = w / outW;
  for (let x = 0; x < outW; x++) {
    let s = (x + 0.5) * sx - 0.5;
    if (s < 0) s = 0;
    let i0 = Math.floor(s);
    if (i0 > w - 1) i0 = w - 1;
    x0s[x] = (left + i0) * c;
    x1s[x] = (left + Math.min(i0 + 1, w - 1)) * c;
    fx[x] = Math.min(s - i0, 1);
  }
  const sy = h / outH;
  const rowStride = img.width * c;
  let o = 0;
  for (let y = 0; y < outH; y++) {
    let s = (y + 0.5) * sy - 0.5;
    if (s < 0) s = 0;
    let j0 = Math.floor(s);
    if (j0 > h - 1) j0 = h - 1;
    const j1 = Math.min(j0 + 1, h - 1);
    const fy = Math.min(s - j0, 1);
    const r0 = (top + j0) * rowStride;
    const r1 = (top + j1) * rowStride;
    if (c === 3) {
      // the common RGB case, unrolled (≈2× faster than the generic loop)
      for (let x = 0; x < outW; x++, o += 3) {
        const a = r0 + x0s[x];
        const b = r0 + x1s[x];
        const d = r1 + x0s[x];
        const e = r1 + x1s[x];
        const wx = fx[x];
        let t = src[a] + (src[b] - src[a]) * wx;
        out[o] = t + (src[d] + (src[e] - src[d]) * wx - t) * fy;
        t = src[a + 1] + (src[b + 1] - src[a + 1]) * wx;
        out[o + 1] = t + (src[d + 1] + (src[e + 1] - src[d + 1]) * wx - t) * fy;
        t = src[a + 2] + (src[b + 2] - src[a + 2]) * wx;
        out[o + 2] = t + (src[d + 2] + (src[e + 2] - src[d + 2]) * wx - t) * fy;
      }
      continue;
    }
    for (let x = 0; x < outW; x++) {
      const a = r0 + x0s[x];
      const b = r0 + x1s[x];
      const d = r1 + x0s[x];
      const e = r1 + x1s[x];
      const wx = fx[x];
      for (let k = 0; k < c; k++) {
        const t = src[a + k] + (src[b + k] - src[a + k]) * wx;
        out[o++] = t + (src[d + k] + (src[e + k] - src[d + k]) * wx - t) * fy;
      }
    }
  }
  return { data: out, height: outH, width: outW, channels: c };
}

/** Resizes to `size` (`n` or `[h, w]`) with bilinear interpolation, half-pixel convention (see {@link resizeBilinear}). */
export function resize(size: number | [number, number]): Transform {
  const [h, w] = toSize(size, 'resize');
  return {
    name: 'resize',
    spec: { name: 'resize', size: [h, w] },
    outputShape: (s: Shape3): Shape3 => [h, w, s[2]],
    apply: (img: Image, _rng: Rng) => (img.height === h && img.width === w ? img : resizeBilinear(img, h, w)),
  };
}
