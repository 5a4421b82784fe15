import * as fs from 'node:fs';
import * as path from 'node:path';
import { NetAugError } from '@netaug/core';
import { writeFileAtomicSync, writeFilesAtomicSync } from '@netaug/core/node';
import {
  checkpointSummaryFile,
  checkpointSummaryText,
  decodeCheckpoint,
  encodeCheckpointBytes,
  type CheckpointData,
  type CheckpointStore,
} from './checkpoint-format';

export {
  checkpointSummaryFile,
  checkpointSummaryText,
  decodeCheckpoint,
  encodeCheckpointBytes,
  loadCheckpointFrom,
  memoryCheckpointStore,
  repairCheckpointSummaryIn,
  saveCheckpointTo,
  type CheckpointData,
  type CheckpointEntry,
  type CheckpointEpochRecord,
  type CheckpointStore,
} from './checkpoint-format';

/** Serialises a checkpoint (see {@link encodeCheckpointBytes}) as a `Buffer`. */
export function encodeCheckpoint(data: CheckpointData): Buffer {
  const bytes = encodeCheckpointBytes(data);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Writes `bytes` to `file` durably and atomically (temp file, full write, fsync, rename, fsync of the folder; IO
 * errors name the path). The same function as `writeFileAtomicSync` of `@netaug/core/node`, kept under this name.
 */
export { writeFileAtomicSync as writeFileAtomic } from '@netaug/core/node';

/**
 * The checkpoints of a run folder as a {@link CheckpointStore}: entry `name` is the file `<dir>/<name>`, written
 * with `writeFileAtomicSync` / `writeFilesAtomicSync` of `@netaug/core/node` (what a trainer with `runDir` uses).
 */
export function fileCheckpointStore(dir: string): CheckpointStore {
  const file = (name: string) => path.join(dir, name);
  return {
    location: dir,
    describe: file,
    exists: async (name) => fs.existsSync(file(name)),
    read: async (name) => (fs.existsSync(file(name)) ? fs.readFileSync(file(name)) : null),
    write: async (entries, options = {}) => {
      if (entries.length === 1) writeFileAtomicSync(file(entries[0].name), entries[0].bytes, options);
      else
        writeFilesAtomicSync(
          entries.map((e) => ({ file: file(e.name), bytes: e.bytes })),
          options,
        );
    },
  };
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
      { file: checkpointSummaryFile(file), bytes: checkpointSummaryText(path.basename(file), data) },
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
  const text = checkpointSummaryText(path.basename(file), data);
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
