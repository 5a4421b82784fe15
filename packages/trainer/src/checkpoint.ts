import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  NetAugError,
  decodeBinaryJson,
  encodeBinaryJson,
  type LoaderState,
  type RngState,
} from '@netaug/core';
import { writeFileAtomicSync, writeFilesAtomicSync } from '@netaug/core/node';
import type { OptimizerState, TensorData } from './optimizers/optimizer';
import type { EpochRecord } from './metrics';

/** Everything needed to continue a run exactly where it stopped. */
export interface CheckpointData {
  format: 'netaug-checkpoint';
  version: 1;
  /** Completed epochs (the next epoch to train). */
  epoch: number;
  globalStep: number;
  /** Every supernet variable (trainable and BN statistics) by name. */
  variables: Record<string, TensorData>;
  optimizer: OptimizerState;
  /** Every generator of the run by role. */
  rng: Record<string, RngState>;
  loaders: { train: LoaderState; val?: LoaderState };
  /** Scheduler / strategy descriptions (schedulers are stateless apart from their config). */
  strategies: Record<string, unknown>[];
  best: { metric: string; value: number; epoch: number } | null;
  /**
   * The model the run ends with so far (the best-validation or the last epoch, per the trainer's `select`):
   * every variable as evaluated at that epoch, BN statistics re-estimated. Absent without validation data.
   */
  selected?: { epoch: number; variables: Record<string, TensorData> } | null;
  /**
   * Records of the finished epochs, without wall-clock `seconds` (so that identical runs write identical
   * checkpoints; `metrics.jsonl` keeps the seconds). Checkpoints of earlier versions may still carry them.
   */
  history: CheckpointEpochRecord[];
  /** State of every stateful callback, by callback name. */
  callbacks: Record<string, unknown>;
  /**
   * The run's description (as in `config.json`) without the run folder (`trainer.runDir`) and without `meta`:
   * no path a run folder could differ by.
   */
  config: Record<string, unknown>;
  /**
   * Reference of the divergence guard: the mean tiny-model loss of the first epoch (absent in checkpoints of
   * earlier versions, then taken from `history[0]`).
   */
  divergence?: { epoch: number; tinyLoss: number } | null;
}

/** An epoch record as stored in a checkpoint: no wall-clock time. */
export type CheckpointEpochRecord = Omit<EpochRecord, 'seconds'> & { seconds?: number };

const MAGIC = 0x4b43414e; // "NACK" little-endian

/**
 * Serialises a checkpoint in the project's binary container ({@link encodeBinaryJson} of @netaug/core, as
 * `.nair` files): `NACK` magic, u32 JSON length, JSON (tensors as `{$f32: offset}`), padding, float32 data.
 */
export function encodeCheckpoint(data: CheckpointData): Buffer {
  const bytes = encodeBinaryJson(MAGIC, data);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Parses what {@link encodeCheckpoint} wrote; throws NetAugError `CHECKPOINT` on anything else. */
export function decodeCheckpoint(buf: Buffer): CheckpointData {
  const data = decodeBinaryJson<CheckpointData>(MAGIC, buf, {
    code: 'CHECKPOINT',
    what: 'NetAug checkpoint',
  });
  if (data.format !== 'netaug-checkpoint' || data.version !== 1) {
    throw new NetAugError('CHECKPOINT', `Unsupported checkpoint format ${data.format} v${data.version}`);
  }
  return data;
}

/**
 * Writes `bytes` to `file` durably and atomically (temp file, full write, fsync, rename, fsync of the folder; IO
 * errors name the path). The same function as `writeFileAtomicSync` of `@netaug/core/node`, kept under this name.
 */
export { writeFileAtomicSync as writeFileAtomic } from '@netaug/core/node';

/** The readable summary next to a checkpoint: `checkpoint.bin` → `checkpoint.json`. */
export function checkpointSummaryFile(file: string): string {
  return file.replace(/\.bin$/, '') + '.json';
}

/** The text of the readable summary of `data` saved as `file` (epoch, step, best, history — no tensors). */
function summaryText(file: string, data: CheckpointData): string {
  const { variables: _v, optimizer, selected, ...meta } = data;
  const summary = {
    ...meta,
    selected: selected ? { epoch: selected.epoch } : null,
    optimizer: { type: optimizer.type, iterations: optimizer.iterations },
    binary: path.basename(file),
  };
  return JSON.stringify(summary, null, 2);
}

/**
 * Saves a checkpoint atomically as `file` (binary, authoritative) and a human-readable summary next to it
 * (`file` with `.json`: epoch, step, best, history — no tensors), both with `writeFilesAtomicSync` of
 * `@netaug/core/node`: each is complete, and on an error (e.g. NetAugError `IO` "no space left on device writing
 * runs/a/checkpoint.bin (the previous checkpoint is kept)") the previous pair is untouched. The binary is
 * written and renamed first; a crash between the two renames leaves the summary one checkpoint behind, which
 * {@link repairCheckpointSummary} (called by a resuming trainer) rewrites.
 */
export function saveCheckpoint(file: string, data: CheckpointData): void {
  writeFilesAtomicSync(
    [
      { file, bytes: encodeCheckpoint(data) },
      { file: checkpointSummaryFile(file), bytes: summaryText(file, data) },
    ],
    { label: 'checkpoint' },
  );
}

/**
 * Rewrites the readable summary of the checkpoint `file` (atomically) when it does not describe `data` (the
 * checkpoint as loaded from `file`): missing, or left behind by a crash between the two renames of
 * {@link saveCheckpoint}. Returns true when it rewrote it.
 */
export function repairCheckpointSummary(file: string, data: CheckpointData = loadCheckpoint(file)): boolean {
  const summary = checkpointSummaryFile(file);
  const text = summaryText(file, data);
  let current: string | null = null;
  try {
    current = fs.readFileSync(summary, 'utf8');
  } catch {
    current = null;
  }
  if (current === text) return false;
  writeFileAtomicSync(summary, text, { label: 'checkpoint summary' });
  return true;
}

/** Reads a checkpoint written by {@link saveCheckpoint}; throws `CHECKPOINT` if missing or corrupt. */
export function loadCheckpoint(file: string): CheckpointData {
  if (!fs.existsSync(file)) {
    throw new NetAugError('CHECKPOINT', `No checkpoint at ${file}`, {
      hint: 'train first, or start without resume',
    });
  }
  return decodeCheckpoint(fs.readFileSync(file));
}
