import { NetAugError, type Rng, type Shape3 } from '@netaug/core';
import type { Image } from '../types';
import { resizeBilinear } from './resize';
import { roundHalfEven, toSize, type Transform } from './transform';

/** Options of {@link randomResizedCrop} (defaults as torchvision). */
export interface RandomResizedCropOptions {
  /** Range of the crop area as a fraction of the image area (default [0.08, 1]). */
  scale?: [number, number];
  /** Range of the crop aspect ratio w/h, sampled log-uniformly (default [3/4, 4/3]). */
  ratio?: [number, number];
}

/**
 * The crop window of torchvision's `RandomResizedCrop.get_params`: up to 10 attempts at a random area and
 * log-uniform aspect ratio that fits, else a center crop clamped to the ratio range.
 */
export function sampleResizedCropWindow(
  H: number,
  W: number,
  scale: [number, number],
  ratio: [number, number],
  rng: Rng,
): { top: number; left: number; h: number; w: number } {
  const area = H * W;
  const logR0 = Math.log(ratio[0]);
  const logR1 = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logR0, logR1));
    const w = roundHalfEven(Math.sqrt(target * aspect));
    const h = roundHalfEven(Math.sqrt(target / aspect));
    if (w > 0 && w <= W && h > 0 && h <= H) {
      return { top: rng.int(H - h + 1), left: rng.int(W - w + 1), h, w };
    }
  }
  const inRatio = W / H;
  let w: number;
  let h: number;
  if (inRatio < Math.min(ratio[0], ratio[1])) {
    w = W;
    h = roundHalfEven(w / Math.min(ratio[0], ratio[1]));
  } else if (inRatio > Math.max(ratio[0], ratio[1])) {
    h = H;
    w = roundHalfEven(h * Math.max(ratio[0], ratio[1]));
  } else {
    w = W;
    h = H;
  }
  return { top: Math.floor((H - h) / 2), left: Math.floor((W - w) / 2), h, w };
}

/**
 * Crops a random window (area fraction in `scale`, aspect ratio in `ratio`) and resizes it to `size` with
 * bilinear interpolation (half-pixel convention) — torchvision `RandomResizedCrop`, the standard
 * ImageNet training augmentation.
 */
export function randomResizedCrop(
  size: number | [number, number],
  options: RandomResizedCropOptions = {},
): Transform {
  const [oh, ow] = toSize(size, 'randomResizedCrop');
  const scale = options.scale ?? [0.08, 1];
  const ratio = options.ratio ?? [3 / 4, 4 / 3];
  if (!(scale[0] > 0 && scale[0] <= scale[1] && scale[1] <= 1))
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `randomResizedCrop: scale must satisfy 0 < lo ≤ hi ≤ 1, got ${scale}`,
    );
  if (!(ratio[0] > 0 && ratio[0] <= ratio[1]))
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `randomResizedCrop: ratio must satisfy 0 < lo ≤ hi, got ${ratio}`,
    );
  return {
    name: 'randomResizedCrop',
    spec: { name: 'randomResizedCrop', size: [oh, ow], scale, ratio },
    outputShape: (s: Shape3): Shape3 => [oh, ow, s[2]],
    apply: (img: Image, rng: Rng) => {
      const { top, left, h, w } = sampleResizedCropWindow(img.height, img.width, scale, ratio, rng);
      return resizeBilinear(img, oh, ow, top, left, h, w);
    },
  };
}
