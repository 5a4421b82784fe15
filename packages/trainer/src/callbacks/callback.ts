import type { EpochRecord } from '../metrics';
import type { StepResult } from '../step';

/** What callbacks see of the run. */
export interface CallbackContext {
  /** Run folder (undefined when the trainer writes no files). */
  runDir?: string;
  /** Epochs of the current `fit()`. */
  epochs: number;
  stepsPerEpoch: number;
  /** Images per training batch (the last batch of an epoch may hold fewer). */
  batchSize: number;
  /**
   * Training steps done so far in the run (read when the hook runs): in `onTrainBegin` the checkpoint's step
   * count after a resume (0 for a fresh run), in `onBatchEnd` including the step just done.
   */
  readonly globalStep: number;
  /** Records of the finished epochs (restored on resume). */
  history: EpochRecord[];
  /** Asks the trainer to stop after the current epoch. */
  stop(reason: string): void;
  /** Writes a checkpoint of the current state to `file` (e.g. the best one). */
  saveCheckpoint(file: string): void;
}

/** Information about one training step. */
export interface BatchInfo extends Omit<StepResult, 'correct'> {
  /** Tiny-model top-1 hits in the batch (absent for a task without accuracy, e.g. detection). */
  correct?: number;
  epoch: number;
  /** Index of the step within its epoch (0-based, as in error messages and `steps.jsonl`). */
  step: number;
  /** Index of the step within the run (0-based; `epoch · stepsPerEpoch + step` for full epochs). */
  globalStep: number;
  lr: number;
  /**
   * Wall-clock seconds of the step: from the return of the previous step's `onBatchEnd` hooks (for an epoch's
   * first step: the start of its training loop) to the end of its optimizer update — data loading included,
   * callbacks not. `size / seconds` is the training throughput in images/s.
   */
  seconds: number;
}

/**
 * Progress of the work between training loops: BN re-estimation (`unit: 'images'`) and evaluation of the tiny
 * model on the validation data (`'evaluation'`) or, once at the end, on the test data (`'test'`) (`unit:
 * 'batches'`). One call with `done: 0` when the phase starts, one after each batch, and one with `end: true`.
 */
export interface PhaseInfo {
  phase: 'bn-reestimation' | 'evaluation' | 'test';
  /**
   * For people: the phase, and at the end of `fit()` which model: `evaluation (selected model)`, `evaluation
   * (shared statistics)` (the last weights with the training-time running statistics).
   */
  label: string;
  /** The epoch it belongs to (0-based); for the phases at the end of `fit()`, the last epoch trained. */
  epoch: number;
  /** True for the phases at the end of `fit()` (the selected model's evaluation, the test data). */
  final: boolean;
  done: number;
  total: number;
  unit: 'images' | 'batches';
  /** Images processed so far in the phase. */
  images: number;
  /** Wall-clock seconds since the phase started. */
  seconds: number;
  /** The last call of the phase. */
  end: boolean;
}

/**
 * A hook into the training loop (see the README, "Trackers"). Hooks run in the order the callbacks are listed and
 * are awaited. Stateful callbacks return their state from `getState()`; the trainer stores it in every checkpoint
 * (keyed by `name`, which must be unique) and gives it back through `setState()` on resume, before
 * `onTrainBegin`.
 */
export interface Callback {
  readonly name: string;
  /** Once per `fit()`, after a resume has restored the run (`ctx.history`, `ctx.globalStep`). */
  onTrainBegin?(ctx: CallbackContext): void | Promise<void>;
  onEpochBegin?(ctx: CallbackContext, epoch: number): void | Promise<void>;
  /** After every training step (the optimizer update is done). */
  onBatchEnd?(ctx: CallbackContext, info: BatchInfo): void | Promise<void>;
  /** BN re-estimation and evaluation progress (see {@link PhaseInfo}). */
  onPhase?(ctx: CallbackContext, info: PhaseInfo): void | Promise<void>;
  /** After the epoch's evaluation; before its checkpoint (a checkpoint written now resumes after this epoch). */
  onEpochEnd?(ctx: CallbackContext, record: EpochRecord): void | Promise<void>;
  /** After the epoch's checkpoint has been written. */
  onCheckpoint?(ctx: CallbackContext, info: { epoch: number; file: string }): void | Promise<void>;
  /** At the end of `fit()` with its summary (a `TrainSummary`), after the run folder is written. */
  onTrainEnd?(ctx: CallbackContext, summary: unknown): void | Promise<void>;
  /**
   * When `fit()` fails (the error is rethrown afterwards; errors of this hook are ignored): flush buffers, stop
   * progress bars.
   */
  onTrainError?(ctx: CallbackContext, error: unknown): void | Promise<void>;
  getState?(): unknown;
  setState?(state: unknown): void;
}
