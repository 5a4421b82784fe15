import { NetAugError, validateFactorList } from '@netaug/core';
import { z } from 'zod';

/** A factor list: non-empty, starts at 1.0, strictly increasing (checked by core's `validateFactorList`). */
const factorList = (name: string) =>
  z
    .array(z.number().positive())
    .min(1)
    .superRefine((list, ctx) => {
      try {
        validateFactorList(name, list);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
      }
    });

/** Cosine decay to `minLr` after a linear warm-up, evaluated per step (the official NetAug recipe). */
export const cosineLrSchema = z
  .object({
    type: z.literal('cosine'),
    /** Peak learning rate, reached at the end of the warm-up. */
    baseLr: z.number().positive(),
    /** Total epochs of the run, warm-up included (official: 155 = 5 + 150). */
    epochs: z.number().int().positive(),
    stepsPerEpoch: z.number().int().positive(),
    /** Linear warm-up epochs (official: 5). */
    warmupEpochs: z.number().int().nonnegative().default(0),
    /** Learning rate the warm-up starts from (official: 0). */
    warmupLr: z.number().nonnegative().default(0),
    /** Learning rate the cosine ends at (official: 0). */
    minLr: z.number().nonnegative().default(0),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.warmupEpochs >= c.epochs) {
      ctx.addIssue({
        code: 'custom',
        path: ['warmupEpochs'],
        message: `must be less than epochs (${c.epochs})`,
      });
    }
    if (c.minLr > c.baseLr)
      ctx.addIssue({ code: 'custom', path: ['minLr'], message: 'must not exceed baseLr' });
  });

/** `baseLr · gamma^floor(epoch / stepEpochs)` (after an optional linear warm-up). */
export const stepLrSchema = z
  .object({
    type: z.literal('step'),
    baseLr: z.number().positive(),
    stepsPerEpoch: z.number().int().positive(),
    /** Decay every this many epochs. */
    stepEpochs: z.number().int().positive(),
    gamma: z.number().positive().max(1).default(0.1),
    warmupEpochs: z.number().int().nonnegative().default(0),
    warmupLr: z.number().nonnegative().default(0),
  })
  .strict();

/** The same learning rate at every step. */
export const constantLrSchema = z.object({ type: z.literal('constant'), lr: z.number().positive() }).strict();

/** Any learning-rate schedule, discriminated by `type`. */
export const lrScheduleSchema = z.discriminatedUnion('type', [
  cosineLrSchema,
  stepLrSchema,
  constantLrSchema,
]);

export type CosineLrConfig = z.input<typeof cosineLrSchema>;
export type StepLrConfig = z.input<typeof stepLrSchema>;
export type ConstantLrConfig = z.input<typeof constantLrSchema>;
/** Plain-JSON description of a learning-rate schedule (see {@link createLrSchedule}). */
export type LrScheduleConfig = z.input<typeof lrScheduleSchema>;
export type ResolvedLrScheduleConfig = z.output<typeof lrScheduleSchema>;

/** Plain-JSON description of the augmentation schedule (see {@link createAugmentationScheduler}). */
export const augmentationSchema = z
  .object({
    /** Total epochs of the run; defaults of the stop epochs derive from it. */
    epochs: z.number().int().positive(),
    /** Width multipliers the augmented models draw from (official: [1, 1.8, 2.6]). */
    widthMults: factorList('widthMults').default([1, 1.8, 2.6]),
    /** Expand factors the augmented models draw from (official: [1, 1.6, 2.2, 2.8]). */
    expandFactors: factorList('expandFactors').default([1, 1.6, 2.2, 2.8]),
    /** Augmented models per step (official: 1). */
    numAugModels: z.number().int().positive().default(1),
    /** Weight of each augmented model's loss (official: 1). */
    alpha: z.number().nonnegative().default(1),
    /** Sampling mode before `stopWidthEpoch`. */
    mode: z.enum(['random', 'min_w', 'min_e', 'max']).default('random'),
    /** From this epoch on width augmentation stops: mode `afterStopWidth` (official: half of the epochs). */
    stopWidthEpoch: z.number().int().nonnegative().optional(),
    afterStopWidth: z.enum(['min_w', 'random', 'min_e', 'max']).default('min_w'),
    /** From this epoch on no augmented model is trained (default: never). */
    stopAugEpoch: z.number().int().nonnegative().optional(),
  })
  .strict();

export type AugmentationConfig = z.input<typeof augmentationSchema>;
export type ResolvedAugmentationConfig = Omit<
  z.output<typeof augmentationSchema>,
  'stopWidthEpoch' | 'stopAugEpoch'
> & {
  stopWidthEpoch: number;
  stopAugEpoch: number;
};

/**
 * Parses `value` with `schema`; on failure throws an INVALID_CONFIG NetAugError whose message names the key
 * path of the first problem (e.g. `lrSchedule.warmupEpochs: must be less than epochs (3)`).
 */
export function parseConfig<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `${[what, ...i.path.map(String)].join('.')}: ${i.message}`);
  throw new NetAugError('INVALID_CONFIG', `Invalid ${what} config — ${issues.join('; ')}`, {
    details: { issues: r.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
  });
}
