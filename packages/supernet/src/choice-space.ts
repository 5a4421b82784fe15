import {
  NetAugError,
  ACTIVE_MODES,
  isActiveMode,
  sampleActiveConfig,
  type ActiveConfig,
  type ActiveMode,
  type AugmentSpace,
  type Rng,
} from '@netaug/core';
import { archChoiceNames, planArch, type ResolvedArch } from './arch-spec';
import type { BlockPlan } from './block';

export { activeMid, activeWidth } from './widths';

/** Active channel counts of every layer, derived from an {@link ActiveConfig}. */
export interface ActivePlan {
  /** Active output channels of the stem. */
  stem: number;
  /** Per body block: active input, inner (`mid`; 0 where a block has none) and output channels. */
  blocks: BlockPlan[];
  /** Active output channels of the head blocks (before the pooling). */
  headConvs: number[];
  /** Active widths of the hidden layers after the pooling. */
  postPoolConvs: number[];
  classifierIn: number;
  /** The full plans of the stem and the head blocks. */
  stemPlan: BlockPlan;
  head: BlockPlan[];
}

/** Names of a supernet's width and expand choice points, in {@link ActiveConfig} order. */
export interface ChoicePointNames {
  width: readonly string[];
  expand: readonly string[];
}

/**
 * The choice points of a supernet: sampling, validating and resolving {@link ActiveConfig}s. A block supernet
 * builds it from the names its blocks declare (in block order); the channel counts of a config come from the
 * blocks (`getActivePlan()`).
 *
 * Constructed from a MobileNet-family {@link ResolvedArch} (the original API), the names are that architecture's
 * (the stem conv, every block without a residual shortcut, every head conv; expand: every inverted bottleneck) and
 * {@link ChoiceSpace.plan} gives its channel counts.
 */
export class ChoiceSpace {
  readonly widthNames: string[];
  readonly expandNames: string[];
  /** The architecture it was built from, if any. */
  readonly arch?: ResolvedArch;

  constructor(
    source: ResolvedArch | ChoicePointNames,
    readonly space: AugmentSpace,
  ) {
    if ('blocks' in source) {
      this.arch = source;
      const names = archChoiceNames(source);
      this.widthNames = names.width;
      this.expandNames = names.expand;
    } else {
      this.widthNames = [...source.width];
      this.expandNames = [...source.expand];
    }
  }

  /**
   * Channel counts of every layer of the {@link ResolvedArch} this space was built from, for a (valid) config.
   * @deprecated use the supernet's `getActivePlan()`; a space built from names has no architecture.
   */
  plan(config: ActiveConfig): ActivePlan {
    if (!this.arch) {
      throw new NetAugError('INVALID_ARGUMENT', 'ChoiceSpace.plan needs a space built from a ResolvedArch', {
        hint: "use the supernet's getActivePlan()",
      });
    }
    const p = planArch(this.arch, config);
    const stemIn = this.arch.inChannels;
    let cur = p.blocks.length ? p.blocks[p.blocks.length - 1].out : p.stem;
    return {
      ...p,
      stemPlan: { in: stemIn, mid: 0, out: p.stem },
      head: p.headConvs.map((out) => {
        const plan = { in: cur, mid: 0, out };
        cur = out;
        return plan;
      }),
    };
  }

  /** A config for a mode; sampling modes draw widths first, then expand factors, from `rng`. */
  sample(mode: ActiveMode, rng: Rng): ActiveConfig {
    const counts = { width: this.widthNames.length, expand: this.expandNames.length };
    return sampleActiveConfig(mode, this.space, counts, rng);
  }

  /**
   * Checks a config against this space and returns a normalised copy (values snapped to the list members).
   * Throws INVALID_CONFIG naming the offending entry.
   */
  validate(config: ActiveConfig): ActiveConfig {
    if (
      !config ||
      typeof config !== 'object' ||
      !Array.isArray(config.width) ||
      !Array.isArray(config.expand)
    ) {
      throw new NetAugError(
        'INVALID_CONFIG',
        `an ActiveConfig must be { width: number[], expand: number[] }`,
        {
          hint: `pass one of ${ACTIVE_MODES.join(', ')} or a config returned by setActive()`,
        },
      );
    }
    const check = (key: 'width' | 'expand', names: string[], list: number[], listName: string) =>
      config[key].map((v, i) => {
        const hit = list.find((x) => Math.abs(x - v) <= 1e-9);
        if (hit === undefined) {
          throw new NetAugError(
            'INVALID_CONFIG',
            `ActiveConfig.${key}[${i}] (${names[i]}) = ${v} is not one of ${listName} [${list}]`,
          );
        }
        return hit;
      });
    if (config.width.length !== this.widthNames.length || config.expand.length !== this.expandNames.length) {
      const key = config.width.length !== this.widthNames.length ? 'width' : 'expand';
      const names = key === 'width' ? this.widthNames : this.expandNames;
      throw new NetAugError(
        'INVALID_CONFIG',
        `ActiveConfig.${key} has ${config[key].length} values, this supernet has ${names.length} ${key} choice points (${names.join(', ')})`,
      );
    }
    return {
      width: check('width', this.widthNames, this.space.widthMults, 'widthMults'),
      expand: check('expand', this.expandNames, this.space.expandFactors, 'expandFactors'),
    };
  }

  /** Resolves a mode or config to a validated config. */
  resolve(mode: ActiveMode | ActiveConfig, rng: Rng): ActiveConfig {
    if (typeof mode === 'string') {
      if (!isActiveMode(mode)) {
        throw new NetAugError('INVALID_ARGUMENT', `unknown active mode '${mode}'`, {
          hint: `use one of min, max, random, min_w, min_e or an ActiveConfig`,
        });
      }
      return this.sample(mode, rng);
    }
    return this.validate(mode);
  }
}
