import { Rng, type Shape3 } from '@netaug/core';

/** A synthetic classification set (images HWC concatenated, labels). */
export interface SyntheticSet {
  images: Float32Array;
  labels: Int32Array;
  shape: Shape3;
  classNames: string[];
}

/**
 * A learnable texture task for tests and examples: class 0 horizontal stripes, 1 vertical stripes,
 * 2 checkerboard, 3 flat; random phase, amplitude and level, plus Gaussian noise. Solvable by a
 * conv → global-pool network (the class is a local pattern, not a position).
 */
export function textureTask(
  n: number,
  options: { size?: number; noise?: number; seed?: number } = {},
): SyntheticSet {
  const size = options.size ?? 8;
  const noise = options.noise ?? 0.3;
  const rng = new Rng(options.seed ?? 0);
  const images = new Float32Array(n * size * size);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % 4;
    labels[i] = label;
    const phase = rng.int(2);
    const amp = rng.uniform(0.5, 1.5);
    const level = rng.uniform(-0.5, 0.5);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const s = label === 0 ? y + phase : label === 1 ? x + phase : label === 2 ? x + y + phase : 0;
        const v = label === 3 ? 0 : s % 2 === 0 ? amp : -amp;
        images[i * size * size + y * size + x] = level + v + noise * rng.normal();
      }
    }
  }
  return {
    images,
    labels,
    shape: [size, size, 1],
    classNames: ['horizontal', 'vertical', 'checker', 'flat'],
  };
}
