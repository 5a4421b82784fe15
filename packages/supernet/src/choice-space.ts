import {
  NetAugError,
  isActiveMode,
  makeDivisible,
  type ActiveConfig,
  type ActiveMode,
  type AugmentSpace,
  type Rng,
} from '@netaug/core';
import type { ResolvedArch } from './arch-spec';

/** Active channel counts of every layer, derived from an {@link ActiveConfig}. */
export interface ActivePlan {
  stem: number;
  /** Per block: active input, expanded (0 for the DS block) and output channels. */
  blocks: { in: number; mid: number; out: number }[];
  headConvs: number[];
  postPoolConvs: number[];
  classifierIn: number;
}

/**
 * Active channels for a width choice point with tiny width `c` at multiplier `m`: `round(c·m)` (makeDivisible
 * with divisor 1, i.e. no rounding to 8). At `m = 1` it is exactly `c`.
 */
export function activeWidth(c: number, m: number): number {
  return makeDivisible(c * m, 1);
}

/**
 * Active mid channels of an inverted bottleneck: `round(midTiny · f · inActive / inTiny)`, i.e.
 * `round(e_active · in_active)` with `e_active = f · e_tiny` and the block's effective tiny expand ratio
 * `e_tiny = midTiny / inTiny`. Using the tiny model's own mid (which MobileNetV2 rounds to 8 and
 * MobileNetV3/MCUNet give explicitly) makes `min` (f = 1, in = inTiny) exactly the tiny model.
 */
export function activeMid(midTiny: number, inTiny: number, factor: number, inActive: number): number {
  return makeDivisible((midTiny * factor * inActive) / inTiny, 1);
}

/**
 * The choice points of a supernet and the maps between {@link ActiveConfig}s and channel counts.
 *
 * Width choice points, in order: the stem conv, every block without a residual shortcut (the DS block
 * included), every head conv (before and after the pooling). Blocks with a shortcut keep their input width.
 * Expand choice points: every inverted bottleneck. The classifier input follows the last head width.
 */
export class ChoiceSpace {
  readonly widthNames: string[] = [];
  readonly expandNames: string[] = [];

  constructor(
    readonly arch: ResolvedArch,
    readonly space: AugmentSpace,
  ) {
    this.widthNames.push('stem');
    arch.blocks.forEach((b, i) => {
      if (!b.shortcut) this.widthNames.push(`blocks.${i}`);
      if (b.type === 'mb') this.expandNames.push(`blocks.${i}`);
    });
    arch.headConvs.forEach((_, i) => this.widthNames.push(`head.${i}`));
    arch.postPoolConvs.forEach((_, i) => this.widthNames.push(`head.${arch.headConvs.length + i}`));
  }

  /** Channel counts of every layer for a (valid) config. */
  plan(config: ActiveConfig): ActivePlan {
    let wi = 0;
    let ei = 0;
    const width = (c: number) => activeWidth(c, config.width[wi++]);
    const stem = width(this.arch.stem.out);
    let cur = stem;
    const blocks = this.arch.blocks.map((b) => {
      const inC = cur;
      const out = b.shortcut ? inC : width(b.out);
      const mid = b.type === 'mb' ? activeMid(b.mid, b.in, config.expand[ei++], inC) : 0;
      cur = out;
      return { in: inC, mid, out };
    });
    const headConvs = this.arch.headConvs.map((h) => (cur = width(h.out)));
    const postPoolConvs = this.arch.postPoolConvs.map((h) => (cur = width(h.out)));
    return { stem, blocks, headConvs, postPoolConvs, classifierIn: cur };
  }

  /** A config for a mode; sampling modes draw widths first, then expand factors, from `rng`. */
  sample(mode: ActiveMode, rng: Rng): ActiveConfig {
    const { widthMults: W, expandFactors: E } = this.space;
    const nw = this.widthNames.length;
    const ne = this.expandNames.length;
    const fill = (n: number, v: number) => new Array<number>(n).fill(v);
    const draw = (n: number, list: number[]) => Array.from({ length: n }, () => rng.choice(list));
    switch (mode) {
      case 'min':
        return { width: fill(nw, W[0]), expand: fill(ne, E[0]) };
      case 'max':
        return { width: fill(nw, W[W.length - 1]), expand: fill(ne, E[E.length - 1]) };
      case 'random': {
        const width = draw(nw, W);
        return { width, expand: draw(ne, E) };
      }
      case 'min_w':
        return { width: fill(nw, W[0]), expand: draw(ne, E) };
      case 'min_e':
        return { width: draw(nw, W), expand: fill(ne, E[0]) };
    }
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
          hint: `pass one of ${['min', 'max', 'random', 'min_w', 'min_e'].join(', ')} or a config returned by setActive()`,
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
