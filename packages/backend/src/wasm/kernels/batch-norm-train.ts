import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { allocF32, assertFloat32, heapF32, type WasmBackendLike } from '../wasm-backend';
import { bnBackward, bnForward } from '../../batch-norm-core';
import { guardWasmMalloc } from '../malloc-guard';
import { simdBnLoops } from '../simd/bn-loops';

/** Kernel names of the fused training batch norm (see `batchNormTrain`). */
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from '@netaug/core';

export { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD };

function channels(x: TensorInfo): number {
  return x.shape[x.shape.length - 1];
}

/** `{x, gamma, beta}` → `[y, mean, variance]`, loops over views of the wasm heap (SIMD where available). */
function batchNormTrainWasm(args: {
  inputs: { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  backend: WasmBackendLike;
  attrs: { epsilon: number };
}): TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const { x, gamma, beta } = inputs;
  assertFloat32(BATCH_NORM_TRAIN, x, gamma, beta);
  guardWasmMalloc(backend);
  const C = channels(x);
  const y = allocF32(backend, x.shape);
  const mean = allocF32(backend, [C]);
  const variance = allocF32(backend, [C]);
  const simd = simdBnLoops(backend, C);
  // views after every allocation (an allocation may grow the heap and detach older views)
  try {
    bnForward(
      heapF32(backend, x),
      heapF32(backend, gamma),
      heapF32(backend, beta),
      attrs.epsilon,
      C,
      heapF32(backend, y),
      heapF32(backend, mean),
      heapF32(backend, variance),
      simd?.loops,
    );
  } finally {
    simd?.dispose();
  }
  return [y, mean, variance];
}

/** `{dy, x, gamma, mean, variance, dmean, dvariance}` → `[dx, dgamma, dbeta]`. */
function batchNormTrainGradWasm(args: {
  inputs: Record<'dy' | 'x' | 'gamma' | 'mean' | 'variance' | 'dmean' | 'dvariance', TensorInfo>;
  backend: WasmBackendLike;
  attrs: { epsilon: number };
}): TensorInfo[] {
  const { inputs: t, backend, attrs } = args;
  assertFloat32(BATCH_NORM_TRAIN_GRAD, t.dy, t.x, t.gamma, t.mean, t.variance, t.dmean, t.dvariance);
  guardWasmMalloc(backend);
  const C = channels(t.x);
  const dx = allocF32(backend, t.x.shape);
  const dgamma = allocF32(backend, [C]);
  const dbeta = allocF32(backend, [C]);
  const simd = simdBnLoops(backend, C);
  const v = (u: TensorInfo) => heapF32(backend, u);
  try {
    bnBackward(
      v(t.dy),
      v(t.x),
      v(t.gamma),
      v(t.mean),
      v(t.variance),
      v(t.dmean),
      v(t.dvariance),
      attrs.epsilon,
      C,
      v(dx),
      v(dgamma),
      v(dbeta),
      simd?.loops,
    );
  } finally {
    simd?.dispose();
  }
  return [dx, dgamma, dbeta];
}

/** Registration records of the fused batch norm for the wasm backend. */
export const batchNormTrainWasmConfigs: readonly KernelConfig[] = [
  {
    kernelName: BATCH_NORM_TRAIN,
    backendName: 'wasm',
    kernelFunc: batchNormTrainWasm as unknown as KernelFunc,
  },
  {
    kernelName: BATCH_NORM_TRAIN_GRAD,
    backendName: 'wasm',
    kernelFunc: batchNormTrainGradWasm as unknown as KernelFunc,
  },
];
