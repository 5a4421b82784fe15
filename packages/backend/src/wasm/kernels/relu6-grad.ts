import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { allocF32, assertFloat32, heapF32, type WasmBackendLike } from '../wasm-backend';
import { guardWasmMalloc } from '../malloc-guard';
import { simdBnKernels } from '../simd/bn-kernels';

import { RELU6_GRAD } from '@netaug/core';

/** Kernel name of the fused ReLU6 gradient (`dx = dy` where 0 < x ≤ 6, else 0; declared in @netaug/core). */
export { RELU6_GRAD };

/** `{dy, x}` → `dx`, one pass over views of the wasm heap (the SIMD module's, where available). */
function relu6GradWasm(args: {
  inputs: { dy: TensorInfo; x: TensorInfo };
  backend: WasmBackendLike;
}): TensorInfo {
  const { inputs, backend } = args;
  assertFloat32(RELU6_GRAD, inputs.dy, inputs.x);
  guardWasmMalloc(backend);
  const out = allocF32(backend, inputs.x.shape);
  const dx = heapF32(backend, out);
  const dy = heapF32(backend, inputs.dy);
  const x = heapF32(backend, inputs.x);
  const simd = simdBnKernels(backend);
  let start = 0;
  if (simd != null) {
    start = x.length & ~3;
    simd.relu6Grad(dx.byteOffset, dy.byteOffset, x.byteOffset, 4 * start);
  }
  // Branch-free mask: with a branch, the mispredictions on real activations (measured 25 ms vs 4 ms for
  // 2.4 M elements) cost more than the arithmetic. dy·0 keeps tfjs' NaN/∞ semantics (mul(dy, mask)).
  for (let i = start; i < x.length; i++) {
    const v = x[i];
    dx[i] = dy[i] * (+(v > 0) & +(v <= 6));
  }
  return out;
}

export const relu6GradWasmConfig: KernelConfig = {
  kernelName: RELU6_GRAD,
  backendName: 'wasm',
  kernelFunc: relu6GradWasm as unknown as KernelFunc,
};

/**
 * The ReLU6 gradient: `dx = dy` where `0 < x ≤ 6`, else 0 — one {@link RELU6_GRAD} kernel on backends that have it
 * (wasm, native), elsewhere `dy · cast(lessEqual(x, 6) · step(x))`. Marked `netaug` (so is @netaug/backend-native's
 * identical one; neither replaces the other).
 */
export const relu6GradientConfig: tf.GradConfig = {
  kernelName: 'Relu6',
  inputsToSave: ['x'],
  netaug: true,
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
    const [x] = saved;
    const d = dy as tf.Tensor;
    if (tf.getKernel(RELU6_GRAD, tf.getBackend()) != null && x.dtype === 'float32' && d.dtype === 'float32') {
      return { x: () => tf.engine().runKernel(RELU6_GRAD, { dy: d, x }, {}) as tf.Tensor };
    }
    return {
      x: () => tf.mul(d, tf.cast(tf.mul(tf.lessEqual(x, 6), tf.step(x)), 'float32')),
    };
  },
} as tf.GradConfig;

/**
 * Replaces tfjs' `Relu6` gradient (`dy · cast(lessEqual(x, 6) · step(x))`: five full-size tensors, kept
 * until the end of the backward pass, and wasm's `LessEqual` against a broadcast scalar is a slow generic
 * loop) with {@link relu6GradientConfig}: one kernel on backends that have it; elsewhere it computes exactly
 * tfjs' formula. Registered globally (gradients are not per backend); a later import of tfjs' own gradients
 * puts theirs back.
 */
export function registerRelu6Gradient(): void {
  const current = tf.getGradient('Relu6');
  if ((current as { netaug?: boolean } | undefined)?.netaug) return;
  tf.registerGradient(relu6GradientConfig);
}
