import * as tf from '@tensorflow/tfjs-core';
import { NetAugError } from '@netaug/core';

/** Packages whose Node build registers every tfjs gradient function when loaded. */
const GRADIENT_PROVIDERS = ['@tensorflow/tfjs-layers', '@tensorflow/tfjs', '@tensorflow/tfjs-node'];

/**
 * Makes sure tfjs gradient functions are registered. `@tensorflow/tfjs-core` alone registers none, and its
 * `dist/register_all_gradients` module is ESM with extension-less imports that Node cannot load; the Node builds
 * of `@tensorflow/tfjs-layers`, `@tensorflow/tfjs` and `@tensorflow/tfjs-node` register them. This loads the first
 * one installed, and otherwise throws BACKEND_UNAVAILABLE saying what to install.
 */
export async function ensureGradients(): Promise<void> {
  if (tf.getGradient('AddN')) return;
  for (const spec of GRADIENT_PROVIDERS) {
    try {
      await import(spec);
    } catch {
      continue;
    }
    if (tf.getGradient('AddN')) return;
  }
  throw new NetAugError('BACKEND_UNAVAILABLE', 'tfjs gradient functions are not registered', {
    hint: `install one of ${GRADIENT_PROVIDERS.join(', ')} (or import '@tensorflow/tfjs-core/dist/register_all_gradients' in a bundler)`,
  });
}
