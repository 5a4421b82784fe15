import { registerTrainingGradients } from '@netaug/backend';

/**
 * Makes sure the gradient functions training needs are registered. `@tensorflow/tfjs-core` alone registers none
 * (and its `dist/register_all_gradients` is an ESM module Node cannot load); this registers @netaug/backend's own
 * ({@link registerTrainingGradients}: every kernel the zoo's training steps differentiate, on every backend), so
 * nothing else needs to be installed — no `@tensorflow/tfjs-layers`. A kernel that already has a gradient (e.g.
 * tfjs' own, when `@tensorflow/tfjs` or `@tensorflow/tfjs-layers` was loaded) keeps it. Idempotent; `Trainer.fit`
 * calls it.
 */
export async function ensureGradients(): Promise<void> {
  registerTrainingGradients();
}
