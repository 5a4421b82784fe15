import { NetAugError } from '@netaug/core';
import {
  lrScheduleSchema,
  parseConfig,
  type LrScheduleConfig,
  type ResolvedLrScheduleConfig,
} from './config';

/** A learning rate as a function of the step. Stateless: the value depends on (epoch, step) only. */
export interface LrSchedule {
  readonly config: ResolvedLrScheduleConfig;
  /** Learning rate of batch `step` (0-based, within the epoch) of epoch `epoch` (0-based). */
  at(epoch: number, step: number): number;
  /** Learning rate at a global step `epoch · stepsPerEpoch + step`. */
  atGlobalStep(globalStep: number): number;
}

/**
 * Builds a learning-rate schedule from plain JSON (validated; a bad key throws INVALID_CONFIG naming it).
 *
 * `cosine` follows the authors' `CosineLRwithWarmup`, with `t` the 0-based global step,
 * `W = warmupEpochs · stepsPerEpoch` and `D = (epochs − warmupEpochs) · stepsPerEpoch`:
 * - `t < W`: `warmupLr + (baseLr − warmupLr) · (t + 1) / W` (linear, reaches `baseLr` at the last warm-up step);
 * - `t ≥ W`: `minLr + (baseLr − minLr) · ½ (1 + cos(π (t − W) / D))` (cosine to `minLr` at the end).
 *
 * @example
 * const s = createLrSchedule({ type: 'cosine', baseLr: 0.4, epochs: 155, warmupEpochs: 5, stepsPerEpoch: 625 });
 * s.at(0, 0); // 0.4 / 3125
 */
export function createLrSchedule(config: LrScheduleConfig): LrSchedule {
  const c = parseConfig(lrScheduleSchema, config, 'lrSchedule');
  const spe = c.type === 'constant' ? 1 : c.stepsPerEpoch;
  const fn = lrFunction(c);
  return {
    config: c,
    atGlobalStep(t: number) {
      if (!Number.isInteger(t) || t < 0) {
        throw new NetAugError(
          'INVALID_ARGUMENT',
          `LR schedule step must be a non-negative integer, got ${t}`,
        );
      }
      return fn(t);
    },
    at(epoch: number, step: number) {
      return this.atGlobalStep(epoch * spe + step);
    },
  };
}

function lrFunction(c: ResolvedLrScheduleConfig): (t: number) => number {
  switch (c.type) {
    case 'constant':
      return () => c.lr;
    case 'cosine': {
      const W = c.warmupEpochs * c.stepsPerEpoch;
      const D = (c.epochs - c.warmupEpochs) * c.stepsPerEpoch;
      return (t) => {
        if (t < W) return c.warmupLr + ((c.baseLr - c.warmupLr) * (t + 1)) / W;
        const p = Math.min(t - W, D) / D;
        return c.minLr + (c.baseLr - c.minLr) * 0.5 * (1 + Math.cos(Math.PI * p));
      };
    }
    case 'step': {
      const W = c.warmupEpochs * c.stepsPerEpoch;
      return (t) => {
        if (t < W) return c.warmupLr + ((c.baseLr - c.warmupLr) * (t + 1)) / W;
        const epoch = Math.floor(t / c.stepsPerEpoch);
        return c.baseLr * Math.pow(c.gamma, Math.floor(epoch / c.stepEpochs));
      };
    }
  }
}
