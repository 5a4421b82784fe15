import type { Rng, Shape3 } from '@netaug/core';
import type { Image } from '../types';
import type { Transform } from './transform';

/**
 * Applies transforms in order, all drawing from the same rng (so a sample's randomness is one stream).
 * The result has a `spec` (usable in worker threads) only when every part has one.
 */
export function compose(transforms: Transform[]): Transform {
  const parts = transforms.flatMap((t) =>
    t.name === 'compose' && (t as ComposeTransform).parts ? (t as ComposeTransform).parts : [t],
  );
  const specs = parts.map((t) => t.spec);
  const t: ComposeTransform = {
    name: 'compose',
    parts,
    spec: specs.every((s) => s !== undefined) ? { name: 'compose', transforms: specs } : undefined,
    outputShape: (s: Shape3) => parts.reduce((acc, p) => p.outputShape(acc), s),
    apply: (img: Image, rng: Rng) => parts.reduce((acc, p) => p.apply(acc, rng), img),
  };
  return t;
}

interface ComposeTransform extends Transform {
  readonly parts: Transform[];
}
