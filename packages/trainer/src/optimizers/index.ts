import type * as tf from '@tensorflow/tfjs-core';
import type { NamedVariable } from '@netaug/core';
import { z } from 'zod';
import { parseConfig } from '@netaug/schedulers';
import { Adam } from './adam';
import { NamedOptimizer } from './optimizer';
import { Sgd } from './sgd';

export * from './optimizer';
export * from './sgd';
export * from './adam';

/** Plain-JSON optimizer config; the learning rate comes from the LR schedule. */
export const optimizerSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('sgd'),
      momentum: z.number().min(0).max(1).default(0.9),
      nesterov: z.boolean().default(true),
      weightDecay: z.number().nonnegative().default(4e-5),
    })
    .strict(),
  z
    .object({
      type: z.enum(['adam', 'adamw']),
      beta1: z.number().min(0).max(1).default(0.9),
      beta2: z.number().min(0).max(1).default(0.999),
      epsilon: z.number().positive().default(1e-8),
      weightDecay: z.number().nonnegative().optional(),
    })
    .strict(),
]);

export type OptimizerConfig = z.input<typeof optimizerSchema>;

/** Builds the optimizer of `config` over the trainable ones of `params` (a bad key throws INVALID_CONFIG). */
export function createOptimizer(
  config: OptimizerConfig,
  params: NamedVariable<tf.Variable>[],
): NamedOptimizer {
  const c = parseConfig(optimizerSchema, config, 'optimizer');
  if (c.type === 'sgd') return new Sgd(params, c);
  return new Adam(params, { ...c, decoupled: c.type === 'adamw' });
}
