import type { Shape3 } from '@netaug/core';
import { NetAugError } from '@netaug/core';
import type { Image } from '../types';
import type { Transform } from './transform';

/**
 * RGB → gray with the ITU-R 601-2 luma weights 0.299, 0.587, 0.114 (as torchvision/PIL); `outputChannels`
 * 3 repeats the gray value. A 1-channel input passes through (or is repeated to 3).
 */
export function grayscale(outputChannels: 1 | 3 = 1): Transform {
  return {
    name: 'grayscale',
    spec: { name: 'grayscale', outputChannels },
    outputShape: (s: Shape3): Shape3 => [s[0], s[1], outputChannels],
    apply: (img: Image) => {
      if (img.channels !== 1 && img.channels !== 3)
        throw new NetAugError('SHAPE_MISMATCH', `grayscale: expected 1 or 3 channels, got ${img.channels}`);
      const n = img.height * img.width;
      const out = new Float32Array(n * outputChannels);
      for (let p = 0; p < n; p++) {
        const g =
          img.channels === 1
            ? img.data[p]
            : 0.299 * img.data[3 * p] + 0.587 * img.data[3 * p + 1] + 0.114 * img.data[3 * p + 2];
        for (let k = 0; k < outputChannels; k++) out[p * outputChannels + k] = g;
      }
      return { data: out, height: img.height, width: img.width, channels: outputChannels };
    },
  };
}

/** Gray → RGB by repeating the channel (3-channel input passes through), e.g. to feed MNIST to an RGB model. */
export function toRGB(): Transform {
  return {
    name: 'toRGB',
    spec: { name: 'toRGB' },
    outputShape: (s: Shape3): Shape3 => [s[0], s[1], 3],
    apply: (img: Image) => {
      if (img.channels === 3) return img;
      if (img.channels !== 1)
        throw new NetAugError('SHAPE_MISMATCH', `toRGB: expected 1 or 3 channels, got ${img.channels}`);
      const n = img.height * img.width;
      const out = new Float32Array(n * 3);
      for (let p = 0; p < n; p++) out[3 * p] = out[3 * p + 1] = out[3 * p + 2] = img.data[p];
      return { data: out, height: img.height, width: img.width, channels: 3 };
    },
  };
}
