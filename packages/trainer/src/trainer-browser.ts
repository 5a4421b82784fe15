import { TrainerCore, type TrainerOptions } from './trainer-core';

export {
  trainerConfigSchema,
  type TrainerConfig,
  type TrainerOptions,
  type TrainSummary,
} from './trainer-core';

/**
 * Browser build of the trainer: the same training as in Node (channel sorting, the steps, BN re-estimation and
 * evaluation, the divergence guard, exact resume), with no run folder — the run state stays in memory
 * (`history`, `best`, the returned summary, `finalModel`) and checkpoints go to the option `checkpointStore`
 * (e.g. `indexedDbCheckpointStore('my-run')`), if given. The option `runDir` is an error here.
 *
 * @example
 * const trainer = new Trainer({ supernet, trainLoader, valLoader, checkpointStore: indexedDbCheckpointStore('demo'),
 *   optimizer: { type: 'sgd' }, lrSchedule: { type: 'cosine', baseLr: 0.1 }, strategies: [netaug({ epochs: 3 })],
 *   callbacks: [{ name: 'chart', onBatchEnd: (_ctx, s) => plot(s.loss) }] });
 * await trainer.fit({ epochs: 3 });
 * const tflite = buildTflite(trainer.finalModel!); // @netaug/exporters
 */
export class Trainer extends TrainerCore {
  constructor(options: TrainerOptions) {
    super(options, null);
  }
}
