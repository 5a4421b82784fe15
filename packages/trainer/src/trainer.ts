import * as fs from 'node:fs';
import * as path from 'node:path';
import { removeStaleTemps, writeFileAtomicSync } from '@netaug/core/node';
import { jsonlLogger } from './callbacks/jsonl-logger';
import { stepLogger } from './callbacks/step-logger';
import { fileCheckpointStore, saveCheckpoint } from './checkpoint';
import { plotRun } from './plots';
import { TrainerCore, type RunFolderIO, type TrainerOptions } from './trainer-core';

export {
  trainerConfigSchema,
  type TrainerConfig,
  type TrainerOptions,
  type TrainSummary,
  type RunFolderIO,
  type TaskStepInput,
  type TrainerTask,
} from './trainer-core';

/** The run folder as files (durable atomic writes of `@netaug/core/node`). */
const FILE_RUN_FOLDER: RunFolderIO = {
  store: fileCheckpointStore,
  removeStaleTemps: (runDir) => void removeStaleTemps(runDir),
  writeFile: (runDir, name, bytes, label) =>
    writeFileAtomicSync(path.join(runDir, name), bytes, label ? { label } : {}),
  readText: (runDir, name) => {
    try {
      return fs.readFileSync(path.join(runDir, name), 'utf8');
    } catch {
      return null;
    }
  },
  plot: async (runDir, history) => (await plotRun(runDir, history)).map((f) => path.basename(f)),
  jsonlLogger: () => jsonlLogger(),
  stepLogger: () => stepLogger(),
  saveCheckpointFile: saveCheckpoint,
};

/**
 * Trains the tiny model of a supernet with NetAug (or the baseline, distillation...). Per epoch: channel sorting,
 * the training steps (all losses in one gradient, one optimizer update), BN re-estimation + evaluation of the tiny
 * model, callbacks, then an atomic checkpoint. `fit({ epochs, resume: true })` continues a stopped run exactly.
 *
 * @example
 * const trainer = new Trainer({ supernet, trainLoader, valLoader, runDir: 'runs/netaug',
 *   optimizer: { type: 'sgd' }, lrSchedule: { type: 'cosine', baseLr: 0.1, warmupEpochs: 1 },
 *   strategies: [netaug({ epochs: 10 }), labelSmoothing(0.1)], callbacks: [progress()] });
 * const summary = await trainer.fit({ epochs: 10 });
 */
export class Trainer extends TrainerCore {
  constructor(options: TrainerOptions) {
    super(options, FILE_RUN_FOLDER);
  }
}
