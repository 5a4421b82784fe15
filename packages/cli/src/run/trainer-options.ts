import type { TrainerOptions } from '@netaug/trainer';
import type { RunConfig } from './run-config';
import type { TrainRunOptions } from './train-run';

/**
 * The trainer options a run config sets the same way for every task (classification and detection): selection,
 * divergence guard, checkpoint interval, optimizer, cosine learning-rate schedule, progress / TensorBoard
 * callbacks (TensorBoard stays on with --quiet: it is a record of the run, not output), run folder and seed.
 */
export function commonTrainerOptions(
  cfg: RunConfig,
  options: TrainRunOptions,
  trainer: typeof import('@netaug/trainer'),
): Pick<
  TrainerOptions,
  | 'select'
  | 'divergeFactor'
  | 'checkpointEvery'
  | 'optimizer'
  | 'lrSchedule'
  | 'callbacks'
  | 'runDir'
  | 'seed'
> {
  return {
    select: cfg.select,
    ...(cfg.divergeFactor !== undefined ? { divergeFactor: cfg.divergeFactor } : {}),
    ...(cfg.checkpointEvery !== undefined ? { checkpointEvery: cfg.checkpointEvery } : {}),
    optimizer:
      cfg.optimizer === 'sgd'
        ? { type: 'sgd', momentum: cfg.momentum, nesterov: cfg.nesterov, weightDecay: cfg.weightDecay }
        : { type: cfg.optimizer, weightDecay: cfg.weightDecay },
    lrSchedule: { type: 'cosine', baseLr: cfg.lr, warmupEpochs: Math.round(cfg.warmupEpochs) },
    callbacks: [
      ...(options.quiet ? [] : [trainer.progress({ plain: options.plainProgress })]),
      ...(options.tensorboard ? [trainer.tensorboard()] : []),
    ],
    runDir: cfg.out,
    seed: cfg.seed,
  };
}
