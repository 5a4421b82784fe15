import type { EpochRecord } from '../metrics';
import type { StepResult } from '../step';

/** What callbacks see of the run. */
export interface CallbackContext {
  /** Run folder (undefined when the trainer writes no files). */
  runDir?: string;
  epochs: number;
  stepsPerEpoch: number;
  /** Records of the finished epochs (restored on resume). */
  history: EpochRecord[];
  /** Asks the trainer to stop after the current epoch. */
  stop(reason: string): void;
  /** Writes a checkpoint of the current state to `file` (e.g. the best one). */
  saveCheckpoint(file: string): void;
}

/** Information about one training step. */
export interface BatchInfo extends StepResult {
  epoch: number;
  step: number;
  lr: number;
}

/**
 * A hook into the training loop. Stateful callbacks return their state from `getState()`; the trainer stores it in
 * every checkpoint (keyed by `name`, which must be unique) and gives it back through `setState()` on resume.
 */
export interface Callback {
  readonly name: string;
  onTrainBegin?(ctx: CallbackContext): void | Promise<void>;
  onEpochBegin?(ctx: CallbackContext, epoch: number): void | Promise<void>;
  onBatchEnd?(ctx: CallbackContext, info: BatchInfo): void | Promise<void>;
  onEpochEnd?(ctx: CallbackContext, record: EpochRecord): void | Promise<void>;
  /** After the epoch's checkpoint has been written. */
  onCheckpoint?(ctx: CallbackContext, info: { epoch: number; file: string }): void | Promise<void>;
  onTrainEnd?(ctx: CallbackContext, summary: unknown): void | Promise<void>;
  getState?(): unknown;
  setState?(state: unknown): void;
}
