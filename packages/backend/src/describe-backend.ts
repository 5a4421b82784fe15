import * as tf from '@tensorflow/tfjs-core';
import { BATCH_NORM_TRAIN } from '@netaug/core';
import { isNetAugWasmKernel, WASM_GRADIENT_KERNELS } from './wasm/register-wasm-gradient-kernels';
import { simdBnKernels } from './wasm/simd/bn-kernels';
import type { WasmBackendLike } from './wasm/wasm-backend';

/**
 * One line describing the active tfjs backend for logs, e.g.
 * `wasm (tfjs-core 4.22.0, threads 1, netaug grad kernels 3/3, fast 1×1 Conv2DBackpropInput, …, SIMD loops, gradients
 * registered)`.
 */
export function describeBackend(): string {
  const name = tf.getBackend();
  if (name == null) return 'no tfjs backend active (call initBackend())';
  const parts = [`tfjs-core ${tf.version_core}`];
  if (name === 'wasm') {
    const backend = tf.backend() as unknown as { wasm?: { tfjs?: { getThreadsCount?: () => number } } };
    const threads = backend.wasm?.tfjs?.getThreadsCount?.();
    if (threads != null) parts.push(`threads ${threads}`);
    const ours = WASM_GRADIENT_KERNELS.filter((k) => isNetAugWasmKernel(k.kernelName));
    parts.push(`netaug grad kernels ${ours.length}/${WASM_GRADIENT_KERNELS.length}`);
    if (isNetAugWasmKernel('Conv2DBackpropInput')) parts.push('fast 1×1 Conv2DBackpropInput');
    if (isNetAugWasmKernel('BatchMatMul')) parts.push('XNNPACK transposed matMul, zero-copy Identity/Cast');
    if (isNetAugWasmKernel(BATCH_NORM_TRAIN)) parts.push('fused batchNormTrain');
    // the project's wasm SIMD loops (batch norm, ReLU6 gradient, …) or their JS fallback
    parts.push(
      simdBnKernels(tf.backend() as unknown as WasmBackendLike) ? 'SIMD loops' : 'JS loops (no wasm SIMD)',
    );
  }
  // the GPU backends of a browser get none of this package's kernels: batch norm and gradients are tfjs ops
  if (name === 'webgl' || name === 'webgpu') parts.push('plain tfjs ops, no NetAug kernels');
  parts.push(
    tf.getGradient('Conv2D') != null
      ? 'gradients registered'
      : 'NO gradients registered (training will fail)',
  );
  return `${name} (${parts.join(', ')})`;
}
