/**
 * The project's fused training batch norm (kernels `NetAugBatchNormTrain` / `NetAugBatchNormTrainGrad` of
 * @netaug/backend; maths of its `batch-norm-core.ts`) in C++ with OpenMP, and the variant with a ReLU / ReLU6
 * fused after it (`NetAugBatchNormActTrain` / `...Grad`: the gradient reads act' from the saved output).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { f32Values, type KernelArgs, type KernelContext } from './common';

import {
  BATCH_NORM_ACT_TRAIN,
  BATCH_NORM_ACT_TRAIN_GRAD,
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
} from '@netaug/core';

/** Kernel names (declared in @netaug/core; the `Act` ones fuse `attrs.activation`: `relu` | `relu6`). */
export { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, BATCH_NORM_ACT_TRAIN, BATCH_NORM_ACT_TRAIN_GRAD };

/** The addon's activation code. */
function actCode(kernel: string, activation: unknown): 1 | 2 {
  if (activation === 'relu') return 1;
  if (activation === 'relu6') return 2;
  throw new Error(`${kernel}: activation must be relu or relu6, got ${String(activation)}`);
}

function channels(x: tf.TensorInfo): number {
  return x.shape[x.shape.length - 1];
}

function notFloat32(kernel: string): Error {
  return new Error(`${kernel}: the native backend supports float32 tensors only`);
}

type BnAttrs = { epsilon: number; activation?: string };

function forward(kernel: string) {
  return (ctx: KernelContext) =>
    (args: KernelArgs<'x' | 'gamma' | 'beta', BnAttrs>): tf.TensorInfo[] => {
      const { inputs, backend, attrs } = args;
      const act = kernel === BATCH_NORM_ACT_TRAIN ? actCode(kernel, attrs.activation) : 0;
      const x = f32Values(backend, inputs.x);
      const gamma = f32Values(backend, inputs.gamma);
      const beta = f32Values(backend, inputs.beta);
      if (x == null || gamma == null || beta == null) throw notFloat32(kernel);
      const C = channels(inputs.x);
      const y = ctx.alloc(x.length);
      const mean = new Float32Array(C);
      const variance = new Float32Array(C);
      ctx.addon.batchNormTrain(x, gamma, beta, attrs.epsilon, y, mean, variance, act);
      return [
        backend.makeTensorInfo(inputs.x.shape, 'float32', y),
        backend.makeTensorInfo([C], 'float32', mean),
        backend.makeTensorInfo([C], 'float32', variance),
      ];
    };
}

function backward(kernel: string) {
  return (ctx: KernelContext) =>
    (
      args: KernelArgs<'dy' | 'x' | 'y' | 'gamma' | 'mean' | 'variance' | 'dmean' | 'dvariance', BnAttrs>,
    ): tf.TensorInfo[] => {
      const { inputs: t, backend, attrs } = args;
      const act = kernel === BATCH_NORM_ACT_TRAIN_GRAD ? actCode(kernel, attrs.activation) : 0;
      const v = (u: tf.TensorInfo) => {
        const r = f32Values(backend, u);
        if (r == null) throw notFloat32(kernel);
        return r;
      };
      const C = channels(t.x);
      const x = v(t.x);
      const dx = ctx.alloc(x.length);
      const dgamma = new Float32Array(C);
      const dbeta = new Float32Array(C);
      ctx.addon.batchNormTrainGrad(
        v(t.dy),
        x,
        v(t.gamma),
        v(t.mean),
        v(t.variance),
        v(t.dmean),
        v(t.dvariance),
        attrs.epsilon,
        dx,
        dgamma,
        dbeta,
        act === 0 ? undefined : v(t.y),
        act,
      );
      return [
        backend.makeTensorInfo(t.x.shape, 'float32', dx),
        backend.makeTensorInfo([C], 'float32', dgamma),
        backend.makeTensorInfo([C], 'float32', dbeta),
      ];
    };
}

export const batchNormKernels = {
  [BATCH_NORM_TRAIN]: forward(BATCH_NORM_TRAIN),
  [BATCH_NORM_TRAIN_GRAD]: backward(BATCH_NORM_TRAIN_GRAD),
  [BATCH_NORM_ACT_TRAIN]: forward(BATCH_NORM_ACT_TRAIN),
  [BATCH_NORM_ACT_TRAIN_GRAD]: backward(BATCH_NORM_ACT_TRAIN_GRAD),
};
