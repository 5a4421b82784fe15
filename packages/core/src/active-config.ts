import { NetAugError } from './errors';
import type { Rng } from './rng';

/**
 * How a supernet picks its active sub-network:
 * - `min`: the tiny model (every factor 1.0);
 * - `max`: the largest augmented model;
 * - `random`: every width and expand choice point samples its factor;
 * - `min_w`: widths at 1.0, expand factors sampled;
 * - `min_e`: expand factors at 1.0, widths sampled.
 */
export type ActiveMode = 'min' | 'max' | 'random' | 'min_w' | 'min_e';

export const ACTIVE_MODES: readonly ActiveMode[] = ['min', 'max', 'random', 'min_w', 'min_e'];

/**
 * The active sub-network as multipliers of the tiny model: one width multiplier per width choice point and
 * one expand factor per inverted-bottleneck block, in the supernet's order (see `Supernet.choices`).
 * Values are members of the supernet's `widthMults` / `expandFactors`. Plain JSON, so it can be logged and replayed.
 */
export interface ActiveConfig {
  width: number[];
  expand: number[];
}

/** The augmentation factors a supernet is built with. Both lists start at 1.0 (the tiny model) and increase. */
export interface AugmentSpace {
  widthMults: number[];
  expandFactors: number[];
}

/** NetAug's official ImageNet factors. */
export const DEFAULT_AUGMENT_SPACE: Readonly<AugmentSpace> = Object.freeze({
  widthMults: [1.0, 1.8, 2.6],
  expandFactors: [1.0, 1.6, 2.2, 2.8],
});

/** Throws INVALID_ARGUMENT unless the list is finite, starts with 1.0 and strictly increases. */
export function validateFactorList(name: string, list: readonly number[]): void {
  const fix = `give an increasing list that starts with 1.0, e.g. [1, 1.8, 2.6]`;
  if (!Array.isArray(list) || list.length === 0) {
    throw new NetAugError('INVALID_ARGUMENT', `${name} must be a non-empty list of numbers`, { hint: fix });
  }
  if (list.some((x) => typeof x !== 'number' || !Number.isFinite(x) || x <= 0)) {
    throw new NetAugError('INVALID_ARGUMENT', `${name} [${list}] has a value that is not a positive number`, {
      hint: fix,
    });
  }
  if (list[0] !== 1) {
    throw new NetAugError('INVALID_ARGUMENT', `${name} [${list}] does not start with 1.0 (the tiny model)`, {
      hint: fix,
    });
  }
  for (let i = 1; i < list.length; i++) {
    if (!(list[i] > list[i - 1])) {
      throw new NetAugError('INVALID_ARGUMENT', `${name} [${list}] is not strictly increasing`, {
        hint: fix,
      });
    }
  }
}

/** Validates both lists of an augment space (see {@link validateFactorList}). */
export function validateAugmentSpace(space: AugmentSpace): AugmentSpace {
  validateFactorList('widthMults', space.widthMults);
  validateFactorList('expandFactors', space.expandFactors);
  return space;
}

/** True when the argument is one of the {@link ActiveMode} names. */
export function isActiveMode(x: unknown): x is ActiveMode {
  return typeof x === 'string' && (ACTIVE_MODES as readonly string[]).includes(x);
}

/** How many width and expand choice points a supernet has (the lengths of an {@link ActiveConfig}'s lists). */
export interface ChoiceCounts {
  width: number;
  expand: number;
}

/**
 * The config of `mode` in `space` — the one definition of what each mode means, used by supernets and
 * schedulers alike: `min`/`max` take every factor's first/last value; `random` samples every width, then every
 * expand factor; `min_w` fixes widths at 1.0 and samples expand factors; `min_e` samples widths and fixes expand
 * factors at 1.0. Draws from `rng` in that order (widths first) and only for sampled lists, so a seed gives the
 * same configs wherever it is called. Sampling modes without `rng` throw INVALID_ARGUMENT.
 */
export function sampleActiveConfig(
  mode: ActiveMode,
  space: AugmentSpace,
  counts: ChoiceCounts,
  rng?: Rng,
): ActiveConfig {
  if (!isActiveMode(mode))
    throw new NetAugError('INVALID_ARGUMENT', `Unknown active mode '${String(mode)}'`, {
      hint: `use one of ${ACTIVE_MODES.join(', ')}`,
    });
  const sampleWidth = mode === 'random' || mode === 'min_e';
  const sampleExpand = mode === 'random' || mode === 'min_w';
  if ((sampleWidth || sampleExpand) && !rng)
    throw new NetAugError('INVALID_ARGUMENT', `the '${mode}' mode samples factors and needs an Rng`, {
      hint: 'pass a seeded Rng (new Rng(seed))',
    });
  const list = (n: number, factors: readonly number[], sampled: boolean): number[] => {
    const fixed = mode === 'max' ? factors[factors.length - 1] : factors[0];
    return Array.from({ length: n }, () => (sampled ? rng!.choice(factors) : fixed));
  };
  const width = list(counts.width, space.widthMults, sampleWidth);
  return { width, expand: list(counts.expand, space.expandFactors, sampleExpand) };
}
