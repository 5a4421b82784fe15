import * as tf from '@tensorflow/tfjs-core';
import {
  NetAugError,
  Rng,
  encodeModelIR,
  isNetAugError,
  profile,
  type Batch,
  type DataLoader,
  type ModelIR,
  type Supernet,
} from '@netaug/core';
import { createLrSchedule, parseConfig, type LrSchedule, type LrScheduleConfig } from '@netaug/schedulers';
import { z } from 'zod';
import { reestimateBatchNorm, restoreStatistics, snapshotStatistics } from './bn-reestimate';
import type { Callback, CallbackContext, PhaseInfo } from './callbacks/callback';
import {
  loadCheckpointFrom,
  repairCheckpointSummaryIn,
  saveCheckpointTo,
  type CheckpointData,
  type CheckpointStore,
} from './checkpoint-format';
import { evaluate, type EvalMetrics, type EvaluateOptions, type Metrics, type TaskMetrics } from './evaluate';
import { metricAt, type EpochRecord } from './metrics';
import { createOptimizer, type NamedOptimizer, type OptimizerConfig } from './optimizers';
import { ensureGradients } from './gradients';
import { trainStep, type TaskStepResult } from './step';
import { frozenVariables } from './freeze';
import type { Strategy } from './strategies/strategy';

/** What a {@link TrainerTask}'s step gets. */
export interface TaskStepInput {
  supernet: Supernet<tf.Tensor, tf.Variable>;
  /** A batch of the train loader, as it yields it (a task's loader may add fields, e.g. boxes). */
  batch: Batch;
  epoch: number;
  /** Batch index within the epoch. */
  step: number;
  /** The trainer's generator (augmented configs are drawn from it; checkpointed). */
  rng: Rng;
  optimizer: NamedOptimizer;
  lr: number;
  /**
   * Call with the step's loss and terms after the finite-loss check and before the optimizer update; it may throw
   * (the divergence guard), and then nothing must be updated.
   */
  check: (r: { loss: number; terms: Record<string, number> }) => void;
}

/**
 * A training task other than classification, e.g. `detectionTask` of @netaug/detector: the trainer keeps
 * everything else — epochs, learning-rate schedule, channel sorting, BN re-estimation, selection, checkpoints and
 * exact resume, the run folder, callbacks — and asks the task for the step and the evaluation. With a task there
 * are no strategies (the task trains NetAug's augmented models itself), no frozen layers and batch norm trains.
 */
export interface TrainerTask {
  readonly name: string;
  /** One training step: the loss of the tiny model (and the task's augmented terms), ONE optimizer update. */
  step(input: TaskStepInput): TaskStepResult;
  /**
   * The tiny model (the task sets `min`) in eval mode on one full pass of `loader`, its position restored: the
   * task's figures (e.g. `vocMAP`). The trainer re-estimates BN first, as for classification.
   */
  evaluate(
    supernet: Supernet<tf.Tensor, tf.Variable>,
    loader: DataLoader,
    options: EvaluateOptions,
  ): Promise<TaskMetrics>;
  /** JSON for config.json. */
  describe?(): Record<string, unknown>;
}

/** The plain-JSON part of the trainer options (validated; a bad key throws INVALID_CONFIG naming it). */
export const trainerConfigSchema = z
  .object({
    /** Seed of the trainer's generator (augmented-model sampling). */
    seed: z.number().int().default(0),
    /** Run folder: checkpoints, metrics, config, summary, model, plots. Nothing is written without it. */
    runDir: z.string().min(1).optional(),
    /**
     * Channel sorting at the start of every epoch: `weights-and-slots` (default) also permutes the optimizer
     * slots of the sorted variables; `weights-only` is what the authors' code does.
     */
    sortChannels: z.enum(['none', 'weights-only', 'weights-and-slots']).default('weights-and-slots'),
    /** BN re-estimation of the tiny model before every evaluation and before the final export. */
    bnReestimation: z
      .object({ enabled: z.boolean().default(true), images: z.number().int().positive().default(2000) })
      .strict()
      .default({ enabled: true, images: 2000 }),
    /** Metric (dotted path of an epoch record) that defines the best epoch. */
    monitor: z.string().default('val.top1'),
    monitorMode: z.enum(['max', 'min']).default('max'),
    /** Write loss / accuracy plots (SVG + PNG) at the end. */
    plots: z.boolean().default(true),
    /**
     * Write `steps.jsonl` (one line per training step, see `stepLogger`) when there is a run folder. It does not
     * change a run's result.
     */
    logSteps: z.boolean().default(true),
    /** Write `model.nair` (the extracted tiny model after BN re-estimation) at the end. */
    exportModel: z.boolean().default(true),
    /**
     * Gradient checkpointing (recompute each block's activations in the backward pass): same gradients, far less
     * memory — needed for large augmented models at batch 128 on the 4 GiB wasm heap — for ~1.3× the compute.
     */
    recompute: z.boolean().default(false),
    /**
     * Which epoch's model the run ends with (`model.nair`, the final figures): `best-val` (default when there is
     * validation data; the authors keep the best-validation checkpoint) is the epoch with the best `monitor`
     * value, `last` the last epoch. Without validation data it is always `last`.
     */
    select: z.enum(['best-val', 'last']).default('best-val'),
    /**
     * Write the checkpoint every this many epochs (and always after the last one). A run interrupted between
     * checkpoints resumes from the last one written: at most this many epochs are trained again.
     */
    checkpointEvery: z.number().int().positive().default(1),
    /**
     * Divergence guard: after the first epoch, the mean of the tiny model's loss term (`terms.tiny`) over that
     * epoch is the reference; a later step whose tiny-model loss exceeds `divergeFactor ×` the reference stops
     * the run with NetAugError `NUMERIC` before its update. `null` or `0` disables it.
     */
    /**
     * Fine-tuning: the layer units before this index (see `layerUnits`: stem, blocks…, head, classifier) get no
     * gradient and keep their weights. 0 (default) freezes nothing.
     */
    freezeUntil: z.number().int().nonnegative().default(0),
    /**
     * Batch norm while training: `train` (default) — batch statistics, running statistics re-estimated before
     * every evaluation (the `bnReestimation` option); `keep` — every BN layer normalises with its running
     * statistics (those the weights came with) in training and evaluation and they are never changed (plain
     * fine-tuning on few images); `reestimate` — the running statistics are re-estimated on the training images
     * once before the first epoch, then kept as with `keep` (weights whose BN was folded into the convolutions).
     * `keep` and `reestimate` are for plain fine-tuning: NetAug's augmented models train their BN.
     */
    batchNorm: z.enum(['train', 'keep', 'reestimate']).default('train'),
    divergeFactor: z
      .number()
      .refine((v) => v === 0 || v >= 1, 'must be 0 (off) or at least 1')
      .nullable()
      .default(10),
  })
  .strict();

export type TrainerConfig = z.input<typeof trainerConfigSchema>;
type ResolvedTrainerConfig = z.output<typeof trainerConfigSchema>;

/** Everything a {@link Trainer} is built from. */
export interface TrainerOptions extends TrainerConfig {
  supernet: Supernet<tf.Tensor, tf.Variable>;
  trainLoader: DataLoader;
  /** Validation data; without it there is no evaluation (and no best metric). Choices are made on it. */
  valLoader?: DataLoader;
  /**
   * Test data: read once, at the end of `fit()`, by the selected model (see `select`). It never influences
   * training or selection.
   */
  testLoader?: DataLoader;
  optimizer: OptimizerConfig;
  /**
   * A schedule, or its config: `epochs` and `stepsPerEpoch` may be left out and are then taken from `fit()` and
   * the train loader.
   */
  lrSchedule: LrSchedule | (Partial<LrScheduleConfig> & { type: LrScheduleConfig['type'] });
  /** Objective pieces, e.g. `[netaug({...}), labelSmoothing(0.1)]`; empty = baseline. */
  strategies?: Strategy[];
  /**
   * Another task than classification (its own step and evaluation; see {@link TrainerTask}); set `monitor` to one
   * of its figures (e.g. `val.vocMAP`).
   */
  task?: TrainerTask;
  callbacks?: Callback[];
  /** Extra JSON recorded in `config.json` (dataset, model preset...). */
  meta?: Record<string, unknown>;
  /**
   * Where checkpoints go (`checkpoint.bin` and `checkpoint.json`; `fit({ resume })` reads them back). Default: the
   * run folder `runDir` (Node). In a browser, where there is no run folder, e.g. `indexedDbCheckpointStore('run')`;
   * without either, no checkpoint is written and the run state stays in memory (`history`, the summary).
   */
  checkpointStore?: CheckpointStore;
}

/**
 * @internal What a trainer does with its run folder `runDir` besides checkpoints: the Node build writes files
 * (`config.json`, `metrics.jsonl`, `steps.jsonl`, `model.nair`, plots, `summary.json`); the browser build has no
 * run folder.
 */
export interface RunFolderIO {
  /** The checkpoint store of the run folder. */
  store(runDir: string): CheckpointStore;
  /** Removes the temporary files interrupted writes left behind. */
  removeStaleTemps(runDir: string): void;
  /** Writes `<runDir>/<name>` atomically. */
  writeFile(runDir: string, name: string, bytes: Uint8Array | string, label?: string): void;
  /** The text of `<runDir>/<name>`, or null when it cannot be read. */
  readText(runDir: string, name: string): string | null;
  /** Writes the loss / accuracy plots; returns the names of the files written. */
  plot(runDir: string, history: EpochRecord[]): Promise<string[]>;
  /** The callbacks a run folder gets unless the caller passed ones of the same name. */
  jsonlLogger(): Callback;
  stepLogger(): Callback;
  /** Writes a checkpoint to `file` (the `saveCheckpoint` of callbacks, e.g. `best.bin`). */
  saveCheckpointFile(file: string, data: CheckpointData): void;
}

/** What `fit()` returns and writes to `summary.json`. */
export interface TrainSummary {
  epochs: number;
  globalStep: number;
  stopReason: string | null;
  best: CheckpointData['best'];
  /**
   * The selected tiny model at the end (see the `select` option): which epoch, its figures on the validation
   * data (BN re-estimated unless disabled; equal to that epoch's `val` record) and on the test data (read once,
   * here), and the last weights with the shared running statistics on the validation data (a diagnostic).
   */
  final?: {
    selected: { epoch: number; rule: 'best-val' | 'last' };
    val?: Metrics;
    test?: Metrics;
    sharedStats?: Metrics;
  };
  model?: { params: number; macs: number };
  seconds: number;
  stepsPerSecond: number;
  files: string[];
  /** Why no plots were written although `plots` was on (an optional plotting package is not installed). */
  plotsSkipped?: string;
}

const CHECKPOINT = 'checkpoint.bin';
const METRICS = 'metrics.jsonl';

/** `1.386`, `3.2e+5`: four significant digits. */
const fmt = (v: number) => String(Number(v.toPrecision(4)));

/**
 * The trainer of {@link Trainer} with its run folder passed in (the Node build writes files, the browser build
 * keeps the run in memory and checkpoints in a {@link CheckpointStore}). Construct a `Trainer`, not this.
 */
export class TrainerCore {
  readonly supernet: Supernet<tf.Tensor, tf.Variable>;
  readonly trainLoader: DataLoader;
  readonly valLoader?: DataLoader;
  readonly testLoader?: DataLoader;
  readonly optimizer: NamedOptimizer;
  readonly strategies: Strategy[];
  readonly task?: TrainerTask;
  readonly callbacks: Callback[];
  readonly config: ResolvedTrainerConfig;
  /** Completed epochs. */
  epoch = 0;
  globalStep = 0;
  history: EpochRecord[] = [];
  best: CheckpointData['best'] = null;
  /** The model the run ends with so far: every variable (BN statistics re-estimated) at the selected epoch. */
  selected: CheckpointData['selected'] = null;
  /**
   * The tiny model the last `fit()` ended with (the selected epoch, BN re-estimated unless disabled), as written to
   * `model.nair` in a run folder; kept in memory, e.g. to export it in a browser. Null before the first `fit()`.
   */
  finalModel: ModelIR | null = null;
  /** The generator strategies sample from (augmented configs); checkpointed. */
  rng: Rng;
  private schedule: LrSchedule | null = null;
  private readonly lrInput: TrainerOptions['lrSchedule'];
  private readonly optimizerConfig: OptimizerConfig;
  private readonly meta: Record<string, unknown>;
  private stopReason: string | null = null;
  /** `epochs` of the current `fit()` (callbacks see it). */
  private fitEpochs = 0;
  /** The divergence guard's reference: mean tiny-model loss of the first epoch (checkpointed). */
  private divergence: CheckpointData['divergence'] = null;
  /** The checkpoint this run last wrote or resumed from (for error messages). */
  private lastCheckpoint: { epoch: number; file: string } | null = null;
  /** Variables of the frozen layer units (`freezeUntil`). */
  private readonly frozen: ReadonlySet<string>;
  /** Where checkpoints go (option `checkpointStore`, else the run folder), if anywhere. */
  readonly checkpointStore?: CheckpointStore;
  private readonly io: RunFolderIO | null;

  /** `io`: the run folder of the Node build, or null (browser: an option `runDir` is an error). */
  constructor(options: TrainerOptions, io: RunFolderIO | null) {
    const {
      supernet,
      trainLoader,
      valLoader,
      testLoader,
      optimizer,
      lrSchedule,
      strategies,
      task,
      callbacks,
      meta,
      checkpointStore,
      ...json
    } = options;
    if (!supernet || typeof supernet.forward !== 'function') {
      throw new NetAugError(
        'INVALID_CONFIG',
        'Trainer option supernet must implement the Supernet interface',
      );
    }
    if (!trainLoader || typeof trainLoader[Symbol.asyncIterator] !== 'function') {
      throw new NetAugError('INVALID_CONFIG', 'Trainer option trainLoader must be a DataLoader');
    }
    this.config = parseConfig(trainerConfigSchema, json, 'trainer');
    this.io = io;
    if (this.config.runDir && !io) {
      throw new NetAugError(
        'INVALID_CONFIG',
        `Trainer option runDir ('${this.config.runDir}') needs a file system; this build of @netaug/trainer (browser) has none`,
        {
          hint: "drop runDir and pass checkpointStore (e.g. indexedDbCheckpointStore('my-run')) to keep checkpoints",
        },
      );
    }
    if (checkpointStore != null && typeof checkpointStore.write !== 'function')
      throw new NetAugError(
        'INVALID_CONFIG',
        'Trainer option checkpointStore must implement CheckpointStore',
      );
    this.checkpointStore =
      checkpointStore ?? (this.config.runDir ? io!.store(this.config.runDir) : undefined);
    this.supernet = supernet;
    this.trainLoader = trainLoader;
    this.valLoader = valLoader;
    this.testLoader = testLoader;
    this.optimizerConfig = optimizer;
    this.lrInput = lrSchedule;
    if (!('atGlobalStep' in lrSchedule)) this.buildSchedule(Number.MAX_SAFE_INTEGER); // validates early
    this.strategies = strategies ?? [];
    this.task = task;
    if (task) {
      const bad = [
        ...(this.strategies.length ? [`strategies (${this.strategies.map((s) => s.name).join(', ')})`] : []),
        ...(this.config.freezeUntil ? [`freezeUntil ${this.config.freezeUntil}`] : []),
        ...(this.config.batchNorm !== 'train' ? [`batchNorm '${this.config.batchNorm}'`] : []),
        ...(this.config.recompute ? ['recompute'] : []),
      ];
      if (bad.length)
        throw new NetAugError(
          'INVALID_CONFIG',
          `task '${task.name}' with ${bad.join(', ')}: a task trains with its own step (NetAug included)`,
          { hint: 'leave these options out when training a task' },
        );
    }
    this.callbacks = [...(callbacks ?? [])];
    if (this.config.runDir && !this.callbacks.some((c) => c.name === 'jsonlLogger'))
      this.callbacks.push(io!.jsonlLogger());
    if (this.config.runDir && this.config.logSteps && !this.callbacks.some((c) => c.name === 'stepLogger'))
      this.callbacks.push(io!.stepLogger());
    const names = new Set<string>();
    for (const c of this.callbacks) {
      if (names.has(c.name)) throw new NetAugError('INVALID_CONFIG', `Two callbacks are named '${c.name}'`);
      names.add(c.name);
    }
    this.meta = meta ?? {};
    this.rng = new Rng(this.config.seed);
    this.optimizer = createOptimizer(optimizer, supernet.variables());
    this.frozen = frozenVariables(supernet, this.config.freezeUntil);
    if (this.frozen.size > 0 && this.config.sortChannels !== 'none')
      throw new NetAugError(
        'INVALID_CONFIG',
        `freezeUntil ${this.config.freezeUntil} with sortChannels '${this.config.sortChannels}': sorting permutes the channels of every layer, the frozen ones included`,
        { hint: "set sortChannels: 'none' when layers are frozen" },
      );
    if (this.config.batchNorm !== 'train') {
      const netaugStrategy = this.strategies.find((s) => s.name === 'netaug');
      if (netaugStrategy)
        throw new NetAugError(
          'INVALID_CONFIG',
          `batchNorm '${this.config.batchNorm}' is for plain fine-tuning: NetAug's augmented models train their batch norm`,
          { hint: "use batchNorm 'train' with NetAug, or the baseline strategy to fine-tune" },
        );
    }
  }

  /** Whether BN statistics are re-estimated before evaluations (only when batch norm trains). */
  private get bnReestimates(): boolean {
    return this.config.bnReestimation.enabled && this.config.batchNorm === 'train';
  }

  private buildSchedule(epochs: number): LrSchedule {
    const l = this.lrInput;
    if ('atGlobalStep' in l) return l;
    const filled =
      l.type === 'constant' ? l : { epochs, stepsPerEpoch: this.trainLoader.batchesPerEpoch, ...l };
    return createLrSchedule(filled as LrScheduleConfig);
  }

  private get checkpointFile(): string | undefined {
    return this.checkpointStore?.describe(CHECKPOINT);
  }

  /** The learning-rate schedule of the current `fit()`. */
  get lrSchedule(): LrSchedule {
    if (!this.schedule) this.schedule = this.buildSchedule(Number.MAX_SAFE_INTEGER);
    return this.schedule;
  }

  /** JSON of the run configuration (written to `config.json`). */
  describe(epochs?: number): Record<string, unknown> {
    return {
      epochs,
      supernet: {
        name: this.supernet.name,
        inputShape: this.supernet.inputShape,
        numClasses: this.supernet.numClasses,
        space: this.supernet.space,
      },
      trainer: this.config,
      optimizer: this.optimizerConfig,
      lrSchedule: this.lrSchedule.config,
      strategies: this.strategies.map((s) => s.describe?.() ?? { name: s.name }),
      ...(this.task ? { task: this.task.describe?.() ?? { name: this.task.name } } : {}),
      batchSize: this.trainLoader.batchSize,
      stepsPerEpoch: this.trainLoader.batchesPerEpoch,
      meta: this.meta,
    };
  }

  private context(epochs: number): CallbackContext {
    const globalStep = () => this.globalStep;
    return {
      runDir: this.config.runDir,
      epochs,
      stepsPerEpoch: this.trainLoader.batchesPerEpoch,
      batchSize: this.trainLoader.batchSize,
      get globalStep() {
        return globalStep();
      },
      history: this.history,
      stop: (reason) => {
        this.stopReason = reason;
      },
      saveCheckpoint: (file) => {
        if (!this.io)
          throw new NetAugError(
            'INVALID_CONFIG',
            `saveCheckpoint('${file}') needs a file system (Node build)`,
            {
              hint: 'in a browser, checkpoints go to the trainer option checkpointStore',
            },
          );
        this.io.saveCheckpointFile(file, this.checkpointData());
      },
    };
  }

  /**
   * Trains until `epochs` epochs are completed (or a callback stops the run). With `resume`, continues from
   * `<runDir>/checkpoint.bin` or the `checkpointStore` (`true`: it must exist; `'auto'`: if it exists). Writes the run
   * folder at the end.
   */
  async fit({
    epochs,
    resume = false,
  }: {
    epochs: number;
    resume?: boolean | 'auto';
  }): Promise<TrainSummary> {
    if (!Number.isInteger(epochs) || epochs < 1)
      throw new NetAugError('INVALID_CONFIG', `fit: epochs must be a positive integer, got ${epochs}`);
    await ensureGradients();
    const t0 = performance.now();
    const store = this.checkpointStore;
    const runDir = this.config.runDir;
    // the run folder is this run's from here on: temporary files of interrupted writes are removed
    if (runDir) this.io!.removeStaleTemps(runDir);
    if (resume) {
      if (!store)
        throw new NetAugError('INVALID_CONFIG', 'fit: resume needs trainer option runDir or checkpointStore');
      if (resume === true || (await store.exists(CHECKPOINT))) {
        const data = await loadCheckpointFrom(store, CHECKPOINT);
        this.restore(data);
        this.lastCheckpoint = { epoch: data.epoch - 1, file: store.describe(CHECKPOINT) };
        // a crash between the renames of the pair leaves it behind
        await repairCheckpointSummaryIn(store, CHECKPOINT, data);
      }
    }
    this.schedule = this.buildSchedule(epochs);
    this.fitEpochs = epochs;
    this.stopReason = null;
    if (runDir) this.io!.writeFile(runDir, 'config.json', JSON.stringify(this.describe(epochs), null, 2));
    const ctx = this.context(epochs);
    const stepsBefore = this.globalStep;
    try {
      for (const c of this.callbacks) await c.onTrainBegin?.(ctx);
      // once, before the first step; a resumed run has these statistics in its checkpoint
      if (this.config.batchNorm === 'reestimate' && this.epoch === 0 && this.globalStep === 0)
        await this.reestimate(0, false);
      await this.runEpochs(ctx, epochs);
      const summary = await this.finish(t0, this.globalStep - stepsBefore);
      for (const c of this.callbacks) await c.onTrainEnd?.(ctx, summary);
      return summary;
    } catch (e) {
      for (const c of this.callbacks) {
        try {
          await c.onTrainError?.(ctx, e);
        } catch {
          // the run's own error is the one to report
        }
      }
      throw e;
    }
  }

  /** The epochs of {@link fit}: train, evaluate, callbacks, checkpoint. */
  private async runEpochs(ctx: CallbackContext, epochs: number): Promise<void> {
    const store = this.checkpointStore;
    const file = this.checkpointFile;
    for (let epoch = this.epoch; epoch < epochs && !this.stopReason; epoch++) {
      const te = performance.now();
      for (const c of this.callbacks) await c.onEpochBegin?.(ctx, epoch);
      this.sortChannels();
      const { record: train, lr } = await this.trainEpoch(epoch);
      let val: Metrics | undefined;
      let improved = false;
      if (this.valLoader) {
        val = await this.evaluateTiny(undefined, (m) => {
          improved = this.updateBest(epoch, { epoch, lr, train, val: m });
          // the model as it was evaluated (BN statistics re-estimated) is what the run ends with if selected
          if (improved || this.config.select === 'last')
            this.selected = { epoch, variables: this.readVariables() };
        });
      }
      const record: EpochRecord = {
        epoch,
        lr,
        train,
        ...(val ? { val } : {}),
        seconds: (performance.now() - te) / 1000,
      };
      this.history.push(record);
      if (!this.divergence && Number.isFinite(train.terms.tiny) && train.terms.tiny > 0)
        this.divergence = { epoch, tinyLoss: train.terms.tiny };
      if (!this.valLoader) this.updateBest(epoch, record);
      this.epoch = epoch + 1; // before the callbacks: a checkpoint they write (best.bin) resumes after this epoch
      for (const c of this.callbacks) await c.onEpochEnd?.(ctx, record);
      const due = (epoch + 1) % this.config.checkpointEvery === 0 || epoch + 1 >= epochs || !!this.stopReason;
      if (store && file && due) {
        await saveCheckpointTo(store, CHECKPOINT, this.checkpointData());
        this.lastCheckpoint = { epoch, file };
        for (const c of this.callbacks) await c.onCheckpoint?.(ctx, { epoch, file });
      }
    }
  }

  /** Sorts channels (per the `sortChannels` option) and permutes the optimizer slots along. */
  sortChannels(): void {
    if (this.config.sortChannels === 'none') return;
    const perms = this.supernet.sortChannels();
    if (this.config.sortChannels === 'weights-and-slots') this.optimizer.permuteSlots(perms);
  }

  /** One pass over the train loader (the rest of its current epoch) as epoch `epoch`. */
  async trainEpoch(epoch: number): Promise<{ record: EpochRecord['train']; lr: number }> {
    const schedule = this.lrSchedule;
    const st = this.trainLoader.getState();
    let step = st.batch < this.trainLoader.batchesPerEpoch ? st.batch : 0;
    let loss = 0;
    let correct = 0;
    let withAccuracy = true;
    let count = 0;
    let lr = 0;
    const terms: Record<string, number> = {};
    const ctx = this.context(Math.max(this.fitEpochs, epoch + 1));
    const factor = this.config.divergeFactor;
    const reference = factor && this.divergence && epoch > this.divergence.epoch ? this.divergence : null;
    let last = performance.now();
    for await (const batch of this.trainLoader) {
      lr = schedule.at(epoch, step);
      const at = step;
      const check = ({ terms: t }: { terms: Record<string, number> }) => {
        if (reference && t.tiny > factor! * reference.tinyLoss)
          throw this.divergedError(epoch, at, t.tiny, factor!, reference.tinyLoss);
      };
      let r: TaskStepResult;
      try {
        r = this.task
          ? this.task.step({
              supernet: this.supernet,
              batch,
              epoch,
              step,
              rng: this.rng,
              optimizer: this.optimizer,
              lr,
              check,
            })
          : trainStep(
              {
                supernet: this.supernet,
                strategies: this.strategies,
                batch,
                epoch,
                step,
                rng: this.rng,
                recompute: this.config.recompute,
                frozen: this.frozen,
                bnTraining: this.config.batchNorm === 'train',
              },
              this.optimizer,
              lr,
              { check },
            );
      } catch (e) {
        throw this.explainNumeric(e);
      }
      loss += r.loss * r.size;
      if (r.correct === undefined) withAccuracy = false;
      else correct += r.correct;
      count += r.size;
      for (const [k, v] of Object.entries(r.terms)) terms[k] = (terms[k] ?? 0) + v * r.size;
      const now = performance.now();
      const info = {
        ...r,
        record: r.record ?? {},
        epoch,
        step,
        globalStep: this.globalStep,
        lr,
        seconds: (now - last) / 1000,
      };
      this.globalStep++;
      for (const c of this.callbacks) await c.onBatchEnd?.(ctx, info);
      last = performance.now();
      step++;
    }
    for (const k of Object.keys(terms)) terms[k] /= Math.max(count, 1);
    return {
      record: {
        loss: loss / Math.max(count, 1),
        ...(withAccuracy ? { top1: correct / Math.max(count, 1) } : {}),
        terms,
      },
      lr,
    };
  }

  /** What the run folder holds after a NUMERIC stop, said truthfully. */
  private checkpointStatus(): string {
    const c = this.lastCheckpoint;
    return c
      ? `the last good checkpoint (epoch ${c.epoch}) is kept in ${c.file}`
      : 'no checkpoint was written yet';
  }

  private divergedError(epoch: number, step: number, loss: number, factor: number, ref: number): NetAugError {
    return new NetAugError(
      'NUMERIC',
      `training diverged at epoch ${epoch}, step ${step}: tiny-model loss ${fmt(loss)} > ${factor} × its ` +
        `first-epoch mean ${fmt(ref)}; ${this.checkpointStatus()}`,
      {
        hint: 'lower the learning rate (--lr) or raise --diverge-factor',
        details: {
          reason: 'diverged',
          epoch,
          step,
          tinyLoss: loss,
          reference: ref,
          divergeFactor: factor,
          checkpoint: this.lastCheckpoint?.file ?? null,
        },
      },
    );
  }

  /** A non-finite loss of {@link trainStep}, re-said with what the run folder holds; other errors unchanged. */
  private explainNumeric(e: unknown): unknown {
    if (!isNetAugError(e) || e.code !== 'NUMERIC' || e.details?.reason !== 'non-finite') return e;
    const d = e.details;
    return new NetAugError(
      'NUMERIC',
      `Loss is ${d.loss} at epoch ${d.epoch}, step ${d.step}; ${this.checkpointStatus()}`,
      {
        hint: 'lower the learning rate (--lr) or check the data',
        details: { ...d, checkpoint: this.lastCheckpoint?.file ?? null },
        cause: e,
      },
    );
  }

  /**
   * Evaluates the tiny model on the validation loader; with `reestimate` (default: the `bnReestimation` option)
   * its BN statistics are re-estimated on training images first, and the shared statistics restored afterwards.
   */
  async evaluateTiny(
    reestimate = this.bnReestimates,
    whileReestimated?: (metrics: Metrics) => void,
  ): Promise<Metrics> {
    if (!this.valLoader)
      throw new NetAugError('INVALID_CONFIG', 'evaluateTiny needs trainer option valLoader');
    const valLoader = this.valLoader;
    const epoch = this.epoch;
    const evaluateVal = () =>
      this.phase({ phase: 'evaluation', label: 'evaluation', epoch, final: false }, (onProgress) =>
        this.evaluateLoader(valLoader, { onProgress }),
      );
    if (!reestimate) {
      const m = await evaluateVal();
      whileReestimated?.(m);
      return m;
    }
    const snap = snapshotStatistics(this.supernet);
    try {
      await this.reestimate(epoch, false);
      const m = await evaluateVal();
      whileReestimated?.(m);
      return m;
    } finally {
      restoreStatistics(this.supernet, snap);
    }
  }

  /** The tiny model on one pass of `loader`: classification's {@link evaluate}, or the task's evaluation. */
  private evaluateLoader(loader: DataLoader, options: EvaluateOptions): Promise<Metrics> {
    return this.task
      ? this.task.evaluate(this.supernet, loader, options)
      : evaluate(this.supernet, loader, options);
  }

  /** BN re-estimation of the tiny model on the train loader (the `bnReestimation` option), with progress. */
  private reestimate(epoch: number, final: boolean): Promise<number> {
    return this.phase({ phase: 'bn-reestimation', label: 'bn-reestimation', epoch, final }, (onProgress) =>
      reestimateBatchNorm(this.supernet, this.trainLoader, {
        images: this.config.bnReestimation.images,
        onProgress: (p) => onProgress({ ...p, images: p.done }),
      }),
    );
  }

  /**
   * Runs `work` (BN re-estimation or an evaluation) as a phase: callbacks' `onPhase` get its start, every batch
   * (from the progress function handed to `work`) and its end.
   */
  private async phase<T>(
    what: Pick<PhaseInfo, 'phase' | 'label' | 'epoch' | 'final'>,
    work: (onProgress: (p: { done: number; total: number; images: number }) => Promise<void>) => Promise<T>,
  ): Promise<T> {
    const hooked = this.callbacks.filter((c) => c.onPhase);
    const unit: PhaseInfo['unit'] = what.phase === 'bn-reestimation' ? 'images' : 'batches';
    const total =
      unit === 'images'
        ? Math.min(this.config.bnReestimation.images, this.trainLoader.dataset.size)
        : (what.phase === 'test' ? this.testLoader : this.valLoader)!.batchesPerEpoch;
    const ctx = this.context(Math.max(this.fitEpochs, what.epoch + 1));
    const t0 = performance.now();
    let last = { done: 0, total, images: 0 };
    const emit = async (end: boolean) => {
      const info: PhaseInfo = { ...what, ...last, unit, seconds: (performance.now() - t0) / 1000, end };
      for (const c of hooked) await c.onPhase!(ctx, info);
    };
    if (hooked.length) await emit(false);
    const result = await work(async (p) => {
      last = p;
      if (hooked.length) await emit(false);
    });
    if (hooked.length) await emit(true);
    return result;
  }

  /** Records epoch `epoch` as the best if its monitored metric beats the best so far; true when it does. */
  private updateBest(epoch: number, r: Partial<EpochRecord>): boolean {
    const v = metricAt(r, this.config.monitor);
    if (v === undefined) return false;
    const better =
      this.config.monitorMode === 'max' ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
    if (this.best && !better(v, this.best.value)) return false;
    this.best = { metric: this.config.monitor, value: v, epoch };
    return true;
  }

  /** A copy of every supernet variable (trainable and BN statistics) by name. */
  private readVariables(): CheckpointData['variables'] {
    const variables: CheckpointData['variables'] = {};
    for (const v of this.supernet.variables()) {
      variables[v.name] = {
        shape: [...v.variable.shape],
        data: new Float32Array(v.variable.dataSync() as Float32Array),
      };
    }
    return variables;
  }

  /** Assigns variables read by {@link readVariables} (or from a checkpoint); every one must be present. */
  private assignVariables(variables: CheckpointData['variables']): void {
    for (const v of this.supernet.variables()) {
      const d = variables[v.name];
      if (!d || d.shape.join() !== v.variable.shape.join()) {
        throw new NetAugError(
          'CHECKPOINT',
          `Checkpoint lacks variable '${v.name}' with shape [${v.variable.shape}]`,
          {
            hint: 'the checkpoint was written for a different supernet',
          },
        );
      }
      tf.tidy(() => v.variable.assign(tf.tensor(d.data, d.shape)));
    }
  }

  /** The complete state of the run (see {@link CheckpointData}). */
  checkpointData(): CheckpointData {
    const variables = this.readVariables();
    const callbacks: Record<string, unknown> = {};
    for (const c of this.callbacks) if (c.getState) callbacks[c.name] = c.getState();
    return {
      format: 'netaug-checkpoint',
      version: 1,
      epoch: this.epoch,
      globalStep: this.globalStep,
      variables,
      optimizer: this.optimizer.getState(),
      rng: { trainer: this.rng.getState() },
      loaders: {
        train: this.trainLoader.getState(),
        ...(this.valLoader ? { val: this.valLoader.getState() } : {}),
      },
      strategies: this.strategies.map((s) => s.describe?.() ?? { name: s.name }),
      best: this.best,
      selected: this.selected,
      // no wall-clock time and no path: identical runs write identical checkpoints
      history: this.history.map(({ seconds: _s, ...r }) => ({ ...r })),
      callbacks,
      config: this.checkpointConfig(),
      divergence: this.divergence,
    };
  }

  /** {@link describe} without the run folder and `meta` (which may name it). */
  private checkpointConfig(): Record<string, unknown> {
    const { meta: _m, ...rest } = this.describe();
    const { runDir: _r, ...trainer } = this.config;
    return { ...rest, trainer };
  }

  /** Wall-clock seconds of past epochs from `<runDir>/metrics.jsonl` (by epoch), if it is there. */
  private secondsFromMetrics(): Map<number, number> {
    const out = new Map<number, number>();
    const runDir = this.config.runDir;
    if (!runDir) return out;
    const text = this.io!.readText(runDir, METRICS);
    if (text == null) return out;
    for (const line of text.split('\n')) {
      try {
        const r = JSON.parse(line) as Partial<EpochRecord>;
        if (typeof r.epoch === 'number' && typeof r.seconds === 'number') out.set(r.epoch, r.seconds);
      } catch {
        // an empty or unreadable line: no time for that epoch
      }
    }
    return out;
  }

  /**
   * Restores a checkpoint into this trainer (variables, optimizer slots, generators, loaders, history, callbacks,
   * the divergence reference). The history's `seconds` come from `<runDir>/metrics.jsonl` when it has them, else 0.
   */
  restore(data: CheckpointData): void {
    this.assignVariables(data.variables);
    this.optimizer.setState(data.optimizer);
    this.rng.setState(data.rng.trainer);
    this.trainLoader.setState(data.loaders.train);
    if (this.valLoader && data.loaders.val) this.valLoader.setState(data.loaders.val);
    this.epoch = data.epoch;
    this.globalStep = data.globalStep;
    this.best = data.best;
    this.selected = data.selected ?? null;
    const seconds = this.secondsFromMetrics();
    this.history.splice(
      0,
      this.history.length,
      ...data.history.map((r) => ({ ...r, seconds: seconds.get(r.epoch) ?? r.seconds ?? 0 })),
    );
    const first = data.history[0]?.train.terms.tiny;
    this.divergence =
      data.divergence !== undefined
        ? data.divergence
        : typeof first === 'number' && Number.isFinite(first) && first > 0
          ? { epoch: data.history[0].epoch, tinyLoss: first }
          : null;
    for (const c of this.callbacks)
      if (c.setState && data.callbacks[c.name] !== undefined) c.setState(data.callbacks[c.name]);
  }

  /** Frees the optimizer slots (the supernet and the loaders belong to the caller). */
  dispose(): void {
    this.optimizer.dispose();
  }

  private async finish(t0: number, steps: number): Promise<TrainSummary> {
    const runDir = this.config.runDir;
    const files: string[] = [];
    let final: TrainSummary['final'];
    let model: TrainSummary['model'];
    // the last weights are kept and put back at the end (a later fit() continues from them)
    const last = this.selected ? this.readVariables() : null;
    const snap = last ? null : snapshotStatistics(this.supernet);
    const lastEpoch = Math.max(0, this.epoch - 1);
    const finalEval = (label: string, loader: DataLoader, phase: 'evaluation' | 'test' = 'evaluation') =>
      this.phase({ phase, label, epoch: lastEpoch, final: true }, (onProgress) =>
        this.evaluateLoader(loader, { onProgress }),
      );
    try {
      const sharedStats = this.valLoader
        ? await finalEval('evaluation (shared statistics)', this.valLoader)
        : undefined;
      let val: Metrics | undefined;
      let epoch = this.epoch - 1;
      const rule = this.selected ? this.config.select : 'last';
      if (this.selected) {
        // the selected epoch's model exactly as it was evaluated then (its re-estimated statistics included)
        this.assignVariables(this.selected.variables);
        epoch = this.selected.epoch;
        val = this.valLoader ? await finalEval('evaluation (selected model)', this.valLoader) : undefined;
      } else if (this.bnReestimates) {
        await this.reestimate(lastEpoch, true);
      }
      const test = this.testLoader ? await finalEval('test', this.testLoader, 'test') : undefined;
      if (this.history.length > 0 || test)
        final = {
          selected: { epoch, rule },
          ...(val ? { val } : {}),
          ...(test ? { test } : {}),
          ...(sharedStats ? { sharedStats } : {}),
        };
      this.supernet.setActive('min');
      const extracted = this.supernet.extract();
      const ir = {
        ...extracted,
        metadata: {
          ...extracted.metadata,
          bnReestimated: this.bnReestimates,
          selectedEpoch: epoch,
        },
      };
      const p = profile(ir);
      model = { params: p.params, macs: p.macs };
      this.finalModel = ir;
      if (runDir && this.config.exportModel) {
        this.io!.writeFile(runDir, 'model.nair', encodeModelIR(ir), 'model');
        files.push('model.nair');
      }
    } finally {
      if (last) this.assignVariables(last);
      if (snap) restoreStatistics(this.supernet, snap);
    }
    const seconds = (performance.now() - t0) / 1000;
    const summary: TrainSummary = {
      epochs: this.epoch,
      globalStep: this.globalStep,
      stopReason: this.stopReason,
      best: this.best,
      final,
      model,
      seconds,
      stepsPerSecond: steps / seconds,
      files,
    };
    if (runDir) {
      if (this.config.plots && this.history.length > 0) {
        try {
          files.push(...(await this.io!.plot(runDir, this.history)));
        } catch (e) {
          // the plotting stack is optional: the run stays complete (plots can be drawn later from metrics.jsonl)
          if (!isNetAugError(e) || e.code !== 'MISSING_DEPENDENCY') throw e;
          summary.plotsSkipped = e.message;
          console.warn(`plots skipped: ${e.message}`);
        }
      }
      files.push(METRICS, 'config.json', CHECKPOINT, 'checkpoint.json', 'summary.json');
      if (this.callbacks.some((c) => c.name === 'stepLogger')) files.push('steps.jsonl');
      this.io!.writeFile(runDir, 'summary.json', JSON.stringify(summary, null, 2));
    }
    return summary;
  }
}
