import { NetAugError } from '@netaug/core';
import { centerCrop, randomCrop } from './crop';
import { grayscale, toRGB } from './color';
import { compose } from './compose';
import { randomHorizontalFlip } from './flip';
import { normalize } from './normalize';
import { randomResizedCrop } from './random-resized-crop';
import { resize } from './resize';
import { toFloat } from './to-float';
import type { Transform, TransformSpec } from './transform';

/* eslint-disable @typescript-eslint/no-explicit-any */
const factories: Record<string, (s: any) => Transform> = {
  resize: (s) => resize(s.size),
  centerCrop: (s) => centerCrop(s.size),
  randomCrop: (s) => randomCrop(s.size, s),
  randomResizedCrop: (s) => randomResizedCrop(s.size, s),
  randomHorizontalFlip: (s) => randomHorizontalFlip(s.p),
  normalize: (s) => normalize(s.mean, s.std),
  grayscale: (s) => grayscale(s.outputChannels),
  toRGB: () => toRGB(),
  toFloat: (s) => toFloat(s.scale),
  compose: (s) => compose((s.transforms as TransformSpec[]).map(transformFromSpec)),
};

/** Rebuilds a built-in transform from its `spec` (JSON), e.g. inside a worker thread or from a config file. */
export function transformFromSpec(spec: TransformSpec): Transform {
  const f = factories[spec?.name];
  if (!f) {
    throw new NetAugError('INVALID_ARGUMENT', `Unknown transform "${spec?.name}"`, {
      hint: `known: ${Object.keys(factories).join(', ')}`,
    });
  }
  return f(spec);
}
