import type { AugmentSpace, Shape3 } from '@netaug/core';
import type { ResolvedArch } from './arch-spec';
import { BlockSupernet } from './block-supernet';
import { modelSpecFromArch } from './model-spec';

/** What {@link MobileNetSupernet}'s constructor needs besides the architecture. */
export interface MobileNetSupernetOptions {
  numClasses: number;
  inputShape: Shape3;
  space: AugmentSpace;
  /** Seed of the weight init and of the fallback sampler (default 0). */
  seed?: number;
}

/**
 * A NetAug supernet of the MobileNet family (stem conv, DS block, inverted bottlenecks, head, classifier) built
 * from a {@link ResolvedArch}: the {@link BlockSupernet} of its model spec (`conv`, `ds`, `mb` blocks). Kept for
 * the original API; `createSupernet` returns the same class of object for every model.
 */
export class MobileNetSupernet extends BlockSupernet {
  constructor(name: string, arch: ResolvedArch, options: MobileNetSupernetOptions) {
    super(name, modelSpecFromArch(arch), options);
  }
}
