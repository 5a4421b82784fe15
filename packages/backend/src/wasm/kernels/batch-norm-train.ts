import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { NetAugError } from '@netaug/core';
import { allocF32, assertFloat32, heapF32, type WasmBackendLike } from '../wasm-backend';
import { bnBackward, bnForward } from '../../batch-norm-core';
import { guardWasmMalloc } from '../malloc-guard';
import { simdBnLoops } from '../simd/bn-loops';
import { maskedGrad } from './relu6-grad';

/** Kernel names of the fused training batch norm (see `batchNormTrain`), plain and with an activation. */
import {
  BATCH_NORM_ACT_TRAIN,
  BATCH_NORM_ACT_TRAIN_GRAD,
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
} from '@netaug/core';

export { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD };

function channels(x: TensorInfo): number {
  return x.shape[x.shape.length - 1];
}

type Act = 'relu' | 'relu6';

/** The activation of a fused kernel, or a typed error naming the kernel. */
function activationOf(kernel: string, attrs: { activation?: string }): Act {
  if (attrs.activation === 'relu' || attrs.activation === 'relu6') return attrs.activation;
  throw new NetAugError(
    'INVALID_ARGUMENT',
    `${kernel}: activation must be relu or relu6, got ${attrs.activation}.`,
  );
}

/**
 * `{x, gamma, beta}` → `[y, mean, variance]`, loops over views of the wasm heap (SIMD where available); for
 * {@link BATCH_NORM_ACT_TRAIN} `y` is relu / relu6 of the normalised value, clamped in the same pass.
 */
function forward(kernel: string) {
  return (args: {
    inputs: { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
    backend: WasmBackendLike;
    attrs: { epsilon: number; activation?: string };
  }): TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const { x, gamma, beta } = inputs;
    assertFloat32(kernel, x, gamma, beta);
    const act = kernel === BATCH_NORM_ACT_TRAIN ? activationOf(kernel, attrs) : null;
    guardWasmMalloc(backend);
    const C = channels(x);
    const y = allocF32(backend, x.shape);
    const mean = allocF32(backend, [C]);
    const variance = allocF32(backend, [C]);
    const simd = simdBnLoops(backend, C);
    const v = (u: TensorInfo) => heapF32(backend, u);
    // views after every allocation (an allocation may grow the heap and detach older views)
    try {
      const clampHi = act == null ? null : act === 'relu6' ? 6 : Infinity;
      bnForward(v(x), v(gamma), v(beta), attrs.epsilon, C, v(y), v(mean), v(variance), simd?.loops, clampHi);
    } finally {
      simd?.dispose();
    }
    return [y, mean, variance];
  };
}

/**
 * `{dy, x, gamma, mean, variance, dmean, dvariance}` (and `y`, the activated output, for
 * {@link BATCH_NORM_ACT_TRAIN_GRAD}) → `[dx, dgamma, dbeta]`. With an activation, `dy` is first multiplied by its
 * derivative read from `y` (relu `0 < y`, relu6 `0 < y < 6` — as on `native`; an unfused ReLU6 also passes
 * gradient where its input is exactly 6) into a temporary freed before returning.
 */
function backward(kernel: string) {
  return (args: {
    inputs: Record<'dy' | 'x' | 'gamma' | 'mean' | 'variance' | 'dmean' | 'dvariance', TensorInfo> & {
      y?: TensorInfo;
    };
    backend: WasmBackendLike;
    attrs: { epsilon: number; activation?: string };
  }): TensorInfo[] => {
    const { inputs: t, backend, attrs } = args;
    assertFloat32(kernel, t.dy, t.x, t.gamma, t.mean, t.variance, t.dmean, t.dvariance);
    const act = kernel === BATCH_NORM_ACT_TRAIN_GRAD ? activationOf(kernel, attrs) : null;
    if (act != null) {
      if (t.y == null) throw new NetAugError('INVALID_ARGUMENT', `${kernel} needs the forward's output y.`);
      assertFloat32(kernel, t.y);
    }
    guardWasmMalloc(backend);
    const C = channels(t.x);
    const dyMasked = act != null ? allocF32(backend, t.x.shape) : null;
    const dx = allocF32(backend, t.x.shape);
    const dgamma = allocF32(backend, [C]);
    const dbeta = allocF32(backend, [C]);
    const simd = simdBnLoops(backend, C);
    const v = (u: TensorInfo) => heapF32(backend, u);
    try {
      if (dyMasked != null) maskedGrad(backend, act === 'relu6' ? 'relu6GradY' : 'reluGradY', v(dyMasked), v(t.dy), v(t.y!)); // prettier-ignore
      bnBackward(
        v(dyMasked ?? t.dy),
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
      if (dyMasked != null) backend.disposeData(dyMasked.dataId);
    }
    return [dx, dgamma, dbeta];
  };
}

/** Registration records of the fused batch norm (plain and with relu / relu6) for the wasm backend. */
export const batchNormTrainWasmConfigs: readonly KernelConfig[] = [
  [BATCH_NORM_TRAIN, forward(BATCH_NORM_TRAIN)],
  [BATCH_NORM_TRAIN_GRAD, backward(BATCH_NORM_TRAIN_GRAD)],
  [BATCH_NORM_ACT_TRAIN, forward(BATCH_NORM_ACT_TRAIN)],
  [BATCH_NORM_ACT_TRAIN_GRAD, backward(BATCH_NORM_ACT_TRAIN_GRAD)],
].map(([kernelName, f]) => ({
  kernelName: kernelName as string,
  backendName: 'wasm',
  kernelFunc: f as unknown as KernelFunc,
}));
