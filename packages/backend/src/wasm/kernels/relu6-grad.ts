import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { allocF32, assertFloat32, heapF32, type WasmBackendLike } from '../wasm-backend';
import { guardWasmMalloc } from '../malloc-guard';
import { simdBnKernels } from '../simd/bn-kernels';

import { RELU6_GRAD } from '@netaug/core';

/** Kernel name of the fused ReLU6 gradient (`dx = dy` where 0 < x ≤ 6, else 0; declared in @netaug/core). */
export { RELU6_GRAD };

/**
 * `dx = dy · mask(v)` over views of the wasm heap, in the SIMD module where available: `relu6Grad` 0 < v ≤ 6 (v the
 * ReLU6 input), `relu6GradY` 0 < v < 6, `reluGradY` 0 < v (v an activation's output).
 */
export function maskedGrad(
  backend: WasmBackendLike,
  kind: 'relu6Grad' | 'relu6GradY' | 'reluGradY',
  dx: Float32Array,
  dy: Float32Array,
  v: Float32Array,
): void {
  const simd = simdBnKernels(backend);
  let start = 0;
  if (simd != null) {
    start = v.length & ~3;
    simd[kind](dx.byteOffset, dy.byteOffset, v.byteOffset, 4 * start);
  }
  // The tail (or everything without SIMD). Branch-free mask: with a branch, the mispredictions on real
  // activations (measured 25 ms vs 4 ms for 2.4 M elements) cost more than the arithmetic. dy·0 keeps tfjs'
  // NaN/∞ semantics (mul(dy, mask)).
  const n = v.length;
  if (kind === 'relu6Grad') for (let i = start; i < n; i++) dx[i] = dy[i] * (+(v[i] > 0) & +(v[i] <= 6));
  else if (kind === 'relu6GradY') for (let i = start; i < n; i++) dx[i] = dy[i] * (+(v[i] > 0) & +(v[i] < 6));
  else for (let i = start; i < n; i++) dx[i] = dy[i] * +(v[i] > 0);
}

/** `{dy, x}` → `dx`, one pass over views of the wasm heap (the SIMD module's, where available). */
function relu6GradWasm(args: {
  inputs: { dy: TensorInfo; x: TensorInfo };
  backend: WasmBackendLike;
}): TensorInfo {
  const { inputs, backend } = args;
  assertFloat32(RELU6_GRAD, inputs.dy, inputs.x);
  guardWasmMalloc(backend);
  const out = allocF32(backend, inputs.x.shape);
  maskedGrad(
    backend,
    'relu6Grad',
    heapF32(backend, out),
    heapF32(backend, inputs.dy),
    heapF32(backend, inputs.x),
  );
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
