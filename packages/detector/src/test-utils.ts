/* Shared fixtures of the detector tests (not exported from the package). */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '@netaug/core';
import { initBackend, registerTrainingGradients } from '@netaug/backend';

// the project's own gradient functions (tfjs-core alone registers none; no tfjs-layers needed)
registerTrainingGradients();

export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
  // the cpu backend prints a "use tfjs-node" banner on its first tensor; it is noise in test logs
  (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
}

/**
 * The fastest backend available (`initBackend`: the native one when its addon is built, else wasm, else cpu), one
 * thread so that results are deterministic; the pure-JS `cpu` backend takes seconds per detector step.
 */
export async function useFastBackend(): Promise<string> {
  const { name } = await initBackend({ prefer: 'native', fallback: true, threads: 1 });
  if (name === 'cpu') (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  return name;
}

/** Seeded uniform [0, 1) values. */
export function seededImages(n: number, shape: [number, number, number], seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * shape[0] * shape[1] * shape[2] }, () => rng.next());
}

/** Max |a − b| of two tensors (disposes nothing). */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}
