import type { Rng, Shape3 } from '@netaug/core';
import { NetAugError } from '@netaug/core';
import type { Image } from '../types';
import { cropPad, roundHalfEven, toSize, type Transform } from './transform';

/**
 * Crops the center `size` window; offsets are `round((H − h) / 2)` with Python rounding, as torchvision.
 * A crop larger than the image is padded with zeros (as torchvision).
 */
export function centerCrop(size: number | [number, number]): Transform {
  const [h, w] = toSize(size, 'centerCrop');
  return {
    name: 'centerCrop',
    spec: { name: 'centerCrop', size: [h, w] },
    outputShape: (s: Shape3): Shape3 => [h, w, s[2]],
    apply: (img: Image) =>
      cropPad(img, roundHalfEven((img.height - h) / 2), roundHalfEven((img.width - w) / 2), h, w),
  };
}

/** Options of {@link randomCrop}. */
export interface RandomCropOptions {
  /** Pixels added on every side before cropping (default 0), e.g. 4 for the classic CIFAR recipe. */
  padding?: number;
  /** `constant` (default, value `fill`), `edge` (replicate) or `reflect` (mirror without the edge pixel). */
  paddingMode?: 'constant' | 'edge' | 'reflect';
  /** Value of constant padding (default 0). */
  fill?: number;
}

function padImage(img: Image, p: number, mode: 'edge' | 'reflect'): Image {
  const { height: H, width: W, channels: c } = img;
  const h = H + 2 * p;
  const w = W + 2 * p;
  const out = new Float32Array(h * w * c);
  const map = (i: number, n: number) => {
    if (mode === 'edge') return Math.min(n - 1, Math.max(0, i));
    if (n === 1) return 0;
    const period = 2 * (n - 1);
    let m = ((i % period) + period) % period;
    if (m >= n) m = period - m;
    return m;
  };
  for (let y = 0; y < h; y++) {
    const sy = map(y - p, H);
    for (let x = 0; x < w; x++) {
      const sx = map(x - p, W);
      const s = (sy * W + sx) * c;
      const d = (y * w + x) * c;
      for (let k = 0; k < c; k++) out[d + k] = img.data[s + k];
    }
  }
  return { data: out, height: h, width: w, channels: c };
}

/**
 * Pads by `padding` and crops a uniformly random `size` window (torchvision `RandomCrop`):
 * top ∈ [0, H + 2p − h], left ∈ [0, W + 2p − w].
 */
export function randomCrop(size: number | [number, number], options: RandomCropOptions = {}): Transform {
  const [h, w] = toSize(size, 'randomCrop');
  const padding = options.padding ?? 0;
  const mode = options.paddingMode ?? 'constant';
  const fill = options.fill ?? 0;
  if (!Number.isInteger(padding) || padding < 0)
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `randomCrop: padding must be a non-negative integer, got ${padding}`,
    );
  return {
    name: 'randomCrop',
    spec: { name: 'randomCrop', size: [h, w], padding, paddingMode: mode, fill },
    outputShape: (s: Shape3): Shape3 => [h, w, s[2]],
    apply: (img: Image, rng: Rng) => {
      const H = img.height + 2 * padding;
      const W = img.width + 2 * padding;
      if (H < h || W < w) {
        throw new NetAugError(
          'SHAPE_MISMATCH',
          `randomCrop: crop ${h}×${w} larger than padded image ${H}×${W}`,
        );
      }
      const top = rng.int(H - h + 1);
      const left = rng.int(W - w + 1);
      if (mode === 'constant' || padding === 0)
        return cropPad(img, top - padding, left - padding, h, w, fill);
      return cropPad(padImage(img, padding, mode), top, left, h, w);
    },
  };
}
