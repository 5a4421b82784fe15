import {
  sampleActiveConfig,
  type ActiveConfig,
  type ActiveMode,
  type ChoiceCounts,
  type Rng,
} from '@netaug/core';
import {
  augmentationSchema,
  parseConfig,
  type AugmentationConfig,
  type ResolvedAugmentationConfig,
} from './config';

/** What the augmented model(s) of one training step are. */
export interface AugmentationDecision {
  /** Sampling mode of this step. */
  mode: Exclude<ActiveMode, 'min'>;
  /** Weight of each augmented model's loss. */
  alpha: number;
  /** One sampled config per augmented model (`numAugModels` of them), in the supernet's choice order. */
  configs: ActiveConfig[];
}

/** Number of width and expand choice points of the supernet (`supernet.choices.width.length`, ...). */
export type { ChoiceCounts };

/**
 * Decides, per training step, which augmented models NetAug trains next to the tiny model:
 * - epochs `[0, stopWidthEpoch)`: mode `mode` (default `random`: every width and expand choice point samples
 *   its factor);
 * - epochs `[stopWidthEpoch, stopAugEpoch)`: mode `afterStopWidth` (default `min_w`: widths at 1.0, expand
 *   factors sampled) — the official `stop_aug_w_epoch`, half of the epochs by default;
 * - from `stopAugEpoch` on: `null` (no augmented model; default: never).
 *
 * Stateless apart from its config: the randomness comes from the `Rng` passed in, whose state the trainer saves.
 */
export class AugmentationScheduler {
  readonly config: ResolvedAugmentationConfig;

  constructor(config: ResolvedAugmentationConfig) {
    this.config = config;
  }

  /** Mode of epoch `epoch`, or null when augmentation is off. */
  modeAt(epoch: number): AugmentationDecision['mode'] | null {
    const c = this.config;
    if (epoch >= c.stopAugEpoch) return null;
    return epoch >= c.stopWidthEpoch ? c.afterStopWidth : c.mode;
  }

  /**
   * The augmented models of step `step` of epoch `epoch`, sampled with `rng` for a supernet with `choices`
   * choice points; null when augmentation is off. Draws from `rng` only when it returns a decision.
   */
  sample(epoch: number, _step: number, rng: Rng, choices: ChoiceCounts): AugmentationDecision | null {
    const mode = this.modeAt(epoch);
    if (mode === null) return null;
    const configs: ActiveConfig[] = [];
    for (let i = 0; i < this.config.numAugModels; i++) configs.push(this.sampleConfig(mode, rng, choices));
    return { mode, alpha: this.config.alpha, configs };
  }

  /** One config of `mode`: per choice point a factor from the configured lists (1.0 where the mode fixes it). */
  sampleConfig(mode: AugmentationDecision['mode'], rng: Rng, choices: ChoiceCounts): ActiveConfig {
    return sampleActiveConfig(mode, this.config, choices, rng);
  }

  /** Serialisable state (the resolved config; the scheduler keeps nothing else). */
  getState(): { config: ResolvedAugmentationConfig } {
    return { config: { ...this.config } };
  }
}

/**
 * Builds an {@link AugmentationScheduler} from plain JSON; a bad key throws INVALID_CONFIG naming it.
 * `stopWidthEpoch` defaults to `floor(epochs / 2)` (official), `stopAugEpoch` to `epochs` (never stops).
 *
 * @example
 * const s = createAugmentationScheduler({ epochs: 150 });
 * s.sample(0, 0, new Rng(0), { width: 17, expand: 16 }); // { mode: 'random', alpha: 1, configs: [...] }
 */
export function createAugmentationScheduler(config: AugmentationConfig): AugmentationScheduler {
  const c = parseConfig(augmentationSchema, config, 'augmentation');
  const resolved: ResolvedAugmentationConfig = {
    ...c,
    stopWidthEpoch: c.stopWidthEpoch ?? Math.floor(c.epochs / 2),
    stopAugEpoch: c.stopAugEpoch ?? c.epochs,
  };
  return new AugmentationScheduler(resolved);
}
