import { NetAugError, type Rng, type Shape3 } from '@netaug/core';
import type { Image } from '../types';

/** JSON description of a built-in transform (`name` plus its parameters); lets worker threads rebuild it. */
export interface TransformSpec {
  name: string;
  [param: string]: unknown;
}

/**
 * One step of preprocessing / augmentation. `apply` must not modify its input and must draw all its
 * randomness from `rng` (the loader passes a generator derived from (seed, epoch, index)).
 * Built-in transforms carry a `spec`; custom transforms without one still work, but only in-thread.
 */
export interface Transform {
  readonly name: string;
  readonly spec?: TransformSpec;
  /** Shape of the output for an input of `input` shape (every output of a loader batch must agree). */
  outputShape(input: Shape3): Shape3;
  apply(image: Image, rng: Rng): Image;
}

/** Parses a size argument: `n` → `[n, n]`, `[h, w]` kept. */
export function toSize(size: number | readonly [number, number], what: string): [number, number] {
  const s: [number, number] = typeof size === 'number' ? [size, size] : [size[0], size[1]];
  if (!s.every((v) => Number.isInteger(v) && v > 0)) {
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `${what}: size must be a positive integer or [h, w], got ${JSON.stringify(size)}`,
    );
  }
  return s;
}

/** Python's `round` (half to even), as torchvision uses for crop offsets and sizes. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Copies the window `[top, top+h) × [left, left+w)` of `img`; pixels outside the image are `fill`.
 * Used by every crop.
 */
export function cropPad(img: Image, top: number, left: number, h: number, w: number, fill = 0): Image {
  const c = img.channels;
  const out = new Float32Array(h * w * c);
  if (fill !== 0) out.fill(fill);
  const y0 = Math.max(0, -top);
  const y1 = Math.min(h, img.height - top);
  const x0 = Math.max(0, -left);
  const x1 = Math.min(w, img.width - left);
  if (x1 > x0) {
    for (let y = y0; y < y1; y++) {
      const src = ((top + y) * img.width + left + x0) * c;
      out.set(img.data.subarray(src, src + (x1 - x0) * c), (y * w + x0) * c);
    }
  }
  return { data: out, height: h, width: w, channels: c };
}
