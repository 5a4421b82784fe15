import type { Rng, Shape3 } from '@netaug/core';
import { NetAugError } from '@netaug/core';
import type { Image } from '../types';
import type { Transform } from './transform';

/** Mirrors an image left–right. */
export function flipHorizontal(img: Image): Image {
  const { height: h, width: w, channels: c } = img;
  const out = new Float32Array(img.data.length);
  for (let y = 0; y < h; y++) {
    const row = y * w * c;
    for (let x = 0; x < w; x++) {
      const s = row + x * c;
      const d = row + (w - 1 - x) * c;
      for (let k = 0; k < c; k++) out[d + k] = img.data[s + k];
    }
  }
  return { data: out, height: h, width: w, channels: c };
}

/** Mirrors left–right with probability `p` (default 0.5); draws exactly one number from the rng. */
export function randomHorizontalFlip(p = 0.5): Transform {
  if (!(p >= 0 && p <= 1))
    throw new NetAugError('INVALID_ARGUMENT', `randomHorizontalFlip: p must be in [0, 1], got ${p}`);
  return {
    name: 'randomHorizontalFlip',
    spec: { name: 'randomHorizontalFlip', p },
    outputShape: (s: Shape3) => s,
    apply: (img: Image, rng: Rng) => (rng.next() < p ? flipHorizontal(img) : img),
  };
}
