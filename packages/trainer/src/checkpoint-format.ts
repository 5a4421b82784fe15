import {
  NetAugError,
  decodeBinaryJson,
  encodeBinaryJson,
  type LoaderState,
  type RngState,
} from '@netaug/core';
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
 * Serialises a checkpoint in the project's binary container ({@link encodeBinaryJson} of @netaug/core, as `.nair`
 * files): `NACK` magic, u32 JSON length, JSON (tensors as `{$f32: offset}`), padding, float32 data (all
 * little-endian). The bytes of `encodeCheckpoint` (Node), without `Buffer`.
 */
export function encodeCheckpointBytes(data: CheckpointData): Uint8Array {
  return encodeBinaryJson(MAGIC, data);
}

/** Parses what {@link encodeCheckpointBytes} wrote; throws NetAugError `CHECKPOINT` on anything else. */
export function decodeCheckpoint(buf: Uint8Array): CheckpointData {
  const data = decodeBinaryJson<CheckpointData>(MAGIC, buf, { code: 'CHECKPOINT', what: 'NetAug checkpoint' });
  if (data.format !== 'netaug-checkpoint' || data.version !== 1) {
    throw new NetAugError('CHECKPOINT', `Unsupported checkpoint format ${data.format} v${data.version}`);
  }
  return data;
}

/** The readable summary next to a checkpoint: `checkpoint.bin` → `checkpoint.json`. */
export function checkpointSummaryFile(file: string): string {
  return file.replace(/\.bin$/, '') + '.json';
}

/**
 * The text of the readable summary of `data` stored as `binary` (the checkpoint's file name, no folder): epoch,
 * step, best, history — no tensors.
 */
export function checkpointSummaryText(binary: string, data: CheckpointData): string {
  const { variables: _v, optimizer, selected, ...meta } = data;
  const summary = {
    ...meta,
    selected: selected ? { epoch: selected.epoch } : null,
    optimizer: { type: optimizer.type, iterations: optimizer.iterations },
    binary,
  };
  return JSON.stringify(summary, null, 2);
}

/** One entry written to a {@link CheckpointStore}. */
export interface CheckpointEntry {
  /** Name inside the store, e.g. `checkpoint.bin`. */
  name: string;
  bytes: Uint8Array | string;
}

/**
 * Where a trainer keeps its checkpoints (`checkpoint.bin` and its readable `checkpoint.json`): files in a run
 * folder in Node (`fileCheckpointStore`, what `runDir` uses), IndexedDB in a browser (`indexedDbCheckpointStore`
 * of the browser build), or memory ({@link memoryCheckpointStore}). Pass one as the trainer option
 * `checkpointStore`.
 */
export interface CheckpointStore {
  /** Where the entries live, for messages: a folder, `indexeddb:<database>/<run>`, `memory`. */
  readonly location: string;
  /** An entry's name as messages show it (for files: the path). */
  describe(name: string): string;
  exists(name: string): Promise<boolean>;
  /** The bytes stored under `name`, or null when there are none. */
  read(name: string): Promise<Uint8Array | null>;
  /**
   * Stores the entries together: each one complete, and when the write fails the previous versions are kept
   * (files: atomic renames; IndexedDB: one transaction).
   */
  write(entries: readonly CheckpointEntry[], options?: { label?: string }): Promise<void>;
}

const baseName = (name: string) => name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);

/** Saves a checkpoint as `name` in `store` (binary, authoritative) with its readable summary (`.json`) beside it. */
export async function saveCheckpointTo(
  store: CheckpointStore,
  name: string,
  data: CheckpointData,
): Promise<void> {
  await store.write(
    [
      { name, bytes: encodeCheckpointBytes(data) },
      { name: checkpointSummaryFile(name), bytes: checkpointSummaryText(baseName(name), data) },
    ],
    { label: 'checkpoint' },
  );
}

/** Reads the checkpoint `name` of `store`; throws `CHECKPOINT` if missing or corrupt. */
export async function loadCheckpointFrom(store: CheckpointStore, name: string): Promise<CheckpointData> {
  const bytes = await store.read(name);
  if (bytes == null) {
    throw new NetAugError('CHECKPOINT', `No checkpoint at ${store.describe(name)}`, {
      hint: 'train first, or start without resume',
    });
  }
  return decodeCheckpoint(bytes);
}

/**
 * Rewrites the readable summary of the checkpoint `name` when it does not describe `data` (missing, or left
 * behind by a crash between the two writes of a file store). Returns true when it rewrote it.
 */
export async function repairCheckpointSummaryIn(
  store: CheckpointStore,
  name: string,
  data: CheckpointData,
): Promise<boolean> {
  const summary = checkpointSummaryFile(name);
  const text = checkpointSummaryText(baseName(name), data);
  const current = await store.read(summary);
  if (current != null && new TextDecoder().decode(current) === text) return false;
  await store.write([{ name: summary, bytes: text }], { label: 'checkpoint summary' });
  return true;
}

/** Byte copies of the entries in a Map: a {@link CheckpointStore} for tests, or for runs that need no persistence. */
export function memoryCheckpointStore(): CheckpointStore & { readonly entries: Map<string, Uint8Array> } {
  const entries = new Map<string, Uint8Array>();
  return {
    location: 'memory',
    entries,
    describe: (name) => `memory:${name}`,
    exists: async (name) => entries.has(name),
    read: async (name) => {
      const b = entries.get(name);
      return b ? b.slice() : null;
    },
    write: async (list) => {
      for (const e of list)
        entries.set(
          e.name,
          typeof e.bytes === 'string' ? new TextEncoder().encode(e.bytes) : e.bytes.slice(),
        );
    },
  };
}
