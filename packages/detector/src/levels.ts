import { NetAugError } from '@netaug/core';

/**
 * One feature level of the detector: its stride, its map size for an input size, and the range of object sizes it
 * is responsible for (FCOS: a location of this level is a positive only when the largest of its four distances
 * to the box, `max(l, t, r, b)`, lies in `sizeRange`, bounds included).
 */
export interface Level {
  stride: number;
  height: number;
  width: number;
  sizeRange: [number, number];
}

/**
 * FCOS's size ranges scaled to a level's stride: `[0, 4·s₀], [4·s₀, 4·s₁], …, [4·s_{n−2}, ∞)`. FCOS uses
 * `[0, 64], [64, 128], … [512, ∞)` for strides 8…128 on 800-px images (8× the stride); objects here are smaller
 * relative to the image (8–48 px boxes in 96-px images, strides 8 and 16), so the bounds are 4× the stride: a box
 * of at most 32 px is learnt at stride 8 only, the locations of a larger one whose farthest side is more than 32 px
 * away at stride 16.
 */
export function defaultSizeRanges(strides: readonly number[]): [number, number][] {
  return strides.map((s, i) => [
    i === 0 ? 0 : 4 * strides[i - 1],
    i === strides.length - 1 ? Infinity : 4 * s,
  ]);
}

/**
 * The levels of an `inputHeight × inputWidth` input: map size `ceil(size / stride)` (SAME-padded strided convs),
 * `sizeRanges` (default {@link defaultSizeRanges}). Strides must increase; each must divide the input size, so
 * that a level's map is exactly twice (or `s₁/s₀` times) the next one's and nearest upsampling lines them up.
 */
export function levelLayout(
  inputHeight: number,
  inputWidth: number,
  strides: readonly number[],
  sizeRanges?: readonly (readonly [number, number])[],
): Level[] {
  if (!strides.length)
    throw new NetAugError('INVALID_ARGUMENT', 'detector: at least one stride is needed', {
      hint: 'e.g. strides: [8, 16]',
    });
  const ranges = sizeRanges ?? defaultSizeRanges(strides);
  if (ranges.length !== strides.length)
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `detector: ${ranges.length} size ranges for ${strides.length} strides`,
      { hint: 'give one [min, max] size range per stride' },
    );
  strides.forEach((s, i) => {
    if (!Number.isInteger(s) || s < 1 || (i > 0 && s <= strides[i - 1]))
      throw new NetAugError(
        'INVALID_ARGUMENT',
        `detector: strides [${strides}] must be increasing integers`,
        {
          hint: 'e.g. strides: [8, 16] or [8, 16, 32]',
        },
      );
    if (inputHeight % s !== 0 || inputWidth % s !== 0)
      throw new NetAugError(
        'INVALID_ARGUMENT',
        `detector: input ${inputHeight}×${inputWidth} is not divisible by stride ${s}`,
        { hint: `use an input size that is a multiple of ${strides[strides.length - 1]} (letterbox to it)` },
      );
  });
  return strides.map((stride, i) => ({
    stride,
    height: inputHeight / stride,
    width: inputWidth / stride,
    sizeRange: [ranges[i][0], ranges[i][1]],
  }));
}

/** Number of locations of all levels (`Σ height · width`). */
export function countLocations(levels: readonly Level[]): number {
  return levels.reduce((n, l) => n + l.height * l.width, 0);
}

/**
 * The image coordinates of every location, level by level, row-major within a level: location `(i, j)` of a
 * level of stride `s` sits at `x = (j + 0.5)·s`, `y = (i + 0.5)·s` (FCOS's `⌊s/2⌋ + j·s` for even strides; pixel
 * column `c` covers `[c, c + 1)`). Returns `{ x, y, stride, level }`, one entry per location.
 */
export function locations(levels: readonly Level[]): {
  x: Float64Array;
  y: Float64Array;
  stride: Float64Array;
  level: Int32Array;
} {
  const n = countLocations(levels);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const stride = new Float64Array(n);
  const level = new Int32Array(n);
  let k = 0;
  levels.forEach((l, li) => {
    for (let i = 0; i < l.height; i++)
      for (let j = 0; j < l.width; j++, k++) {
        x[k] = (j + 0.5) * l.stride;
        y[k] = (i + 0.5) * l.stride;
        stride[k] = l.stride;
        level[k] = li;
      }
  });
  return { x, y, stride, level };
}
