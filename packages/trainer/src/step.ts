import * as tf from '@tensorflow/tfjs-core';
import { NetAugError, type Batch, type NamedVariable, type Rng, type Supernet } from '@netaug/core';
import { crossEntropy } from './losses';
import type { NamedOptimizer } from './optimizers/optimizer';
import type { CriterionOptions, StepContext, Strategy } from './strategies/strategy';

/** Inputs of one training step. */
export interface StepInput {
  supernet: Supernet<tf.Tensor, tf.Variable>;
  strategies: Strategy[];
  batch: Batch;
  epoch: number;
  step: number;
  rng: Rng;
  /**
   * Gradient checkpointing: forward passes record one node per block and recompute activations in the backward
   * pass (same gradients, much less memory, ~1.3× the compute). Default false.
   */
  recompute?: boolean;
  /** Variables (by name) that get no gradient and are not updated: the frozen layers of a fine-tuning run. */
  frozen?: ReadonlySet<string>;
  /**
   * Batch norm of the tiny model's forward pass in training mode (batch statistics, running statistics updated;
   * default true). False: it normalises with its running statistics, which stay as they are (fine-tuning with
   * `batchNorm: 'keep'`).
   */
  bnTraining?: boolean;
}

/** What one step computed. */
export interface StepResult {
  loss: number;
  /** Value of every loss term (`tiny`, `aug0`, `kd`, ...). */
  terms: Record<string, number>;
  /** Tiny-model top-1 hits in the batch. */
  correct: number;
  size: number;
  record: StepContext['record'];
}

/** What a {@link TrainerTask}'s step computed: as {@link StepResult}, `correct` where the task has an accuracy. */
export interface TaskStepResult {
  loss: number;
  /** Every loss term (`tiny`, `aug0`, …; augmented ones with α applied). */
  terms: Record<string, number>;
  correct?: number;
  /** Images in the batch. */
  size: number;
  record?: StepContext['record'];
}

/** The criterion options after every strategy adjusted them. */
export function criterionOptions(strategies: Strategy[]): CriterionOptions {
  return strategies.reduce<CriterionOptions>((o, s) => (s.criterion ? s.criterion(o) : o), {
    labelSmoothing: 0,
  });
}

/**
 * Computes the summed loss of all strategies and its gradients w.r.t. every trainable variable of the supernet in
 * ONE `tf.variableGrads` call: the supernet is set to `min` for the tiny forward pass, strategies add their terms.
 * Must run inside `tf.tidy`; the returned gradients are keyed by the supernet's variable names.
 */
export function computeGradients(input: StepInput): {
  value: tf.Scalar;
  grads: Map<string, tf.Tensor>;
  terms: Record<string, number>;
  correct: number;
  record: StepContext['record'];
} {
  const { supernet, strategies, batch } = input;
  const frozen = input.frozen;
  const named = supernet.variables().filter((v) => v.trainable && !frozen?.has(v.name));
  const byTfName = new Map<string, NamedVariable<tf.Variable>>(named.map((v) => [v.variable.name, v]));
  const x = tf.tensor4d(batch.images, batch.shape);
  const labels = tf.tensor1d(batch.labels, 'int32');
  const { labelSmoothing } = criterionOptions(strategies);
  const criterion = (logits: tf.Tensor) => crossEntropy(logits, labels, labelSmoothing);
  const kept: tf.Tensor[] = [];
  const record: StepContext['record'] = {};
  let names: string[] = [];
  try {
    const { value, grads } = tf.variableGrads(
      () => {
        supernet.setActive('min');
        const recompute = input.recompute ?? false;
        const training = input.bnTraining ?? true;
        const tinyLogits = supernet.forward(x, { training, recompute }) as tf.Tensor2D;
        const ctx: StepContext = {
          supernet,
          x,
          labels,
          tinyLogits,
          criterion,
          epoch: input.epoch,
          step: input.step,
          rng: input.rng,
          recompute,
          record,
        };
        const terms: Record<string, tf.Scalar> = { tiny: criterion(tinyLogits) };
        for (const s of strategies) {
          for (const [k, v] of Object.entries(s.lossTerms?.(ctx) ?? {})) {
            if (k in terms)
              throw new NetAugError('INVALID_CONFIG', `Two strategies add a loss term named '${k}'`);
            terms[k] = v;
          }
        }
        supernet.setActive('min');
        kept.push(tf.keep(tf.stack(Object.values(terms))), tf.keep(tf.argMax(tinyLogits, 1)));
        names = Object.keys(terms);
        return tf.addN(Object.values(terms)) as tf.Scalar;
      },
      named.map((v) => v.variable),
    );
    const tv = kept[0].dataSync();
    const terms = Object.fromEntries(names.map((n, i) => [n, tv[i]]));
    const pred = kept[1].dataSync();
    let correct = 0;
    for (let i = 0; i < pred.length; i++) if (pred[i] === batch.labels[i]) correct++;
    const out = new Map<string, tf.Tensor>();
    for (const [k, g] of Object.entries(grads)) out.set(byTfName.get(k)!.name, g);
    return { value, grads: out, terms, correct, record };
  } finally {
    for (const t of kept) t.dispose();
  }
}

/** Options of {@link trainStep}. */
export interface TrainStepOptions {
  /**
   * Runs after the finite-loss check and before the optimizer update with the step's loss and terms; it may throw
   * (the trainer's divergence guard does), and then nothing is updated.
   */
  check?: (r: { loss: number; terms: Record<string, number> }) => void;
}

/**
 * One training step: gradients of the summed loss (see {@link computeGradients}), a finite-loss check, and ONE
 * optimizer update at learning rate `lr`, all inside `tf.tidy` (no tensor is left behind).
 * Throws NetAugError `NUMERIC` naming the epoch and step when the loss is NaN or infinite (nothing is updated;
 * `details`: `reason: 'non-finite'`, `loss`, `epoch`, `step`, `terms`).
 */
export function trainStep(
  input: StepInput,
  optimizer: NamedOptimizer,
  lr: number,
  options: TrainStepOptions = {},
): StepResult {
  let result: StepResult | undefined;
  tf.tidy(() => {
    const { value, grads, terms, correct, record } = computeGradients(input);
    const loss = value.dataSync()[0];
    if (!Number.isFinite(loss)) {
      throw new NetAugError('NUMERIC', `Loss is ${loss} at epoch ${input.epoch}, step ${input.step}`, {
        hint: 'lower the learning rate or check the data',
        details: { reason: 'non-finite', loss, epoch: input.epoch, step: input.step, terms },
      });
    }
    options.check?.({ loss, terms });
    optimizer.applyGradients(grads, lr);
    result = { loss, terms, correct, size: input.batch.labels.length, record };
  });
  return result!;
}
