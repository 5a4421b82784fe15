import * as tf from '@tensorflow/tfjs-core';
import {
  AugmentationScheduler,
  createAugmentationScheduler,
  type AugmentationConfig,
} from '@netaug/schedulers';
import { NetAugError, type AugmentSpace } from '@netaug/core';
import type { Strategy } from './strategy';

/** Throws INVALID_CONFIG unless every factor the scheduler can sample is one the supernet supports. */
function checkSpace(s: AugmentationScheduler, space: AugmentSpace): void {
  const pairs = [
    ['widthMults', s.config.widthMults, space.widthMults],
    ['expandFactors', s.config.expandFactors, space.expandFactors],
  ] as const;
  for (const [key, wanted, has] of pairs) {
    const bad = wanted.filter((f) => !has.includes(f));
    if (bad.length) {
      throw new NetAugError(
        'INVALID_CONFIG',
        `augmentation.${key}: [${bad}] not in the supernet's ${key} [${has}]`,
        {
          hint: `use a subset of [${has}]`,
        },
      );
    }
  }
}

/**
 * NetAug: adds `α · L(augmented model)` for each augmented model the scheduler samples this step (official: one,
 * α = 1). The tiny model's loss is computed by the step with the supernet set to `min`; this strategy then sets
 * the sampled config, runs the second forward pass, and the step sums both losses into one gradient.
 */
export function netaug(scheduler: AugmentationScheduler | AugmentationConfig): Strategy {
  const s = scheduler instanceof AugmentationScheduler ? scheduler : createAugmentationScheduler(scheduler);
  let checked = false;
  return {
    name: 'netaug',
    describe: () => ({ name: 'netaug', ...s.getState().config }),
    lossTerms(ctx) {
      const { supernet } = ctx;
      if (!checked) {
        checkSpace(s, supernet.space);
        checked = true;
      }
      const counts = { width: supernet.choices.width.length, expand: supernet.choices.expand.length };
      const d = s.sample(ctx.epoch, ctx.step, ctx.rng, counts);
      ctx.record.augMode = d?.mode ?? null;
      if (!d) return {};
      ctx.record.augConfigs = d.configs;
      const terms: Record<string, tf.Scalar> = {};
      d.configs.forEach((config, i) => {
        supernet.setActive(config);
        const logits = supernet.forward(ctx.x, { training: true, recompute: ctx.recompute });
        const loss = ctx.criterion(logits);
        terms[`aug${i}`] = d.alpha === 1 ? loss : (tf.mul(loss, d.alpha) as tf.Scalar);
      });
      return terms;
    },
  };
}
