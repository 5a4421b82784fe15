import type { Shape3 } from '@netaug/core';
import type { Image } from '../types';
import type { Transform } from './transform';

/**
 * Converts image data to `Float32Array` times `scale` — like torchvision `ToTensor`, for custom datasets
 * whose `get` yields 8-bit pixels (`Uint8Array`, default scale 1/255). Float data passes through unchanged
 * (this package's readers already return floats in [0, 1]).
 */
export function toFloat(scale = 1 / 255): Transform {
  return {
    name: 'toFloat',
    spec: { name: 'toFloat', scale },
    outputShape: (s: Shape3) => s,
    apply: (img: Image) => {
      const data = img.data as ArrayLike<number>;
      if (data instanceof Float32Array) return img;
      const out = new Float32Array(data.length);
      for (let i = 0; i < out.length; i++) out[i] = data[i] * scale;
      return { ...img, data: out };
    },
  };
}
