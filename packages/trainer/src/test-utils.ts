/* Shared fixtures of the trainer tests (not exported from the package). */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { registerTrainingGradients } from '@netaug/backend';
import { ArrayLoader } from './testing/array-loader';
import { textureTask } from './testing/synthetic';
import { TinySupernet, type TinySupernetOptions } from './testing/tiny-supernet';

// the gradient functions training needs (tfjs-core alone registers none), as Trainer.fit's ensureGradients does
registerTrainingGradients();

export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
  // the cpu backend prints a "use tfjs-node" banner on its first tensor; it is noise in test logs
  (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
}

const created: string[] = [];

/** A fresh temporary folder, removed by {@link removeTmpDirs}. */
export function tmpDir(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `netaug-${name}-`));
  created.push(dir);
  return dir;
}

export function removeTmpDirs(): void {
  for (const d of created.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** A tiny supernet and loaders over the texture task. */
export function setup(
  o: { train?: number; val?: number; batchSize?: number; seed?: number; net?: TinySupernetOptions } = {},
) {
  const train = textureTask(o.train ?? 64, { seed: 1 });
  const val = textureTask(o.val ?? 32, { seed: 2 });
  const supernet = new TinySupernet({ seed: o.seed ?? 1, ...o.net });
  const trainLoader = new ArrayLoader({ ...train, batchSize: o.batchSize ?? 16, seed: 3 });
  const valLoader = new ArrayLoader({ ...val, batchSize: 32, shuffle: false });
  return { supernet, trainLoader, valLoader, train, val };
}

/** Runs `fn` inside tf.tidy and returns its (non-tensor) result. */
export function tidyValue<T>(fn: () => T): T {
  let out: T | undefined;
  tf.tidy(() => {
    out = fn();
  });
  return out as T;
}

export function values(v: tf.Tensor): Float32Array {
  return new Float32Array(v.dataSync() as Float32Array);
}

// the root jest config runs packages as projects, where the preset's testTimeout does not apply
jest.setTimeout(120_000);
