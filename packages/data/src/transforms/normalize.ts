import type { Shape3 } from '@netaug/core';
import { NetAugError } from '@netaug/core';
import type { Image } from '../types';
import type { Transform } from './transform';

/** Per-channel `(x − mean[c]) / std[c]` (apply after scaling to [0, 1]; e.g. ImageNet mean/std). */
export function normalize(mean: number[], std: number[]): Transform {
  if (mean.length !== std.length || mean.length === 0)
    throw new NetAugError('INVALID_ARGUMENT', 'normalize: mean and std need the same non-zero length');
  if (std.some((s) => !(s > 0)))
    throw new NetAugError('INVALID_ARGUMENT', `normalize: std must be positive, got ${std}`);
  const inv = std.map((s) => 1 / s);
  return {
    name: 'normalize',
    spec: { name: 'normalize', mean, std },
    outputShape: (s: Shape3) => {
      if (s[2] !== mean.length)
        throw new NetAugError(
          'SHAPE_MISMATCH',
          `normalize: ${mean.length} channel statistics for ${s[2]}-channel images`,
        );
      return s;
    },
    apply: (img: Image) => {
      const c = img.channels;
      if (c !== mean.length)
        throw new NetAugError(
          'SHAPE_MISMATCH',
          `normalize: ${mean.length} channel statistics for ${c}-channel images`,
        );
      const out = new Float32Array(img.data.length);
      for (let i = 0; i < out.length; i += c) {
        for (let k = 0; k < c; k++) out[i + k] = (img.data[i + k] - mean[k]) * inv[k];
      }
      return { ...img, data: out };
    },
  };
}
