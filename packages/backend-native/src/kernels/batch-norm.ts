/**
 * The project's fused training batch norm (kernels `NetAugBatchNormTrain` / `NetAugBatchNormTrainGrad` of
 * @netaug/backend; maths of its `batch-norm-core.ts`) in C++ with OpenMP.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { f32Values, type KernelArgs, type KernelContext } from './common';

export const BATCH_NORM_TRAIN = 'NetAugBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD = 'NetAugBatchNormTrainGrad';

function channels(x: tf.TensorInfo): number {
  return x.shape[x.shape.length - 1];
}

function notFloat32(kernel: string): Error {
  return new Error(`${kernel}: the native backend supports float32 tensors only`);
}

export const batchNormKernels = {
  [BATCH_NORM_TRAIN]:
    (ctx: KernelContext) =>
    (args: KernelArgs<'x' | 'gamma' | 'beta', { epsilon: number }>): tf.TensorInfo[] => {
      const { inputs, backend, attrs } = args;
      const x = f32Values(backend, inputs.x);
      const gamma = f32Values(backend, inputs.gamma);
      const beta = f32Values(backend, inputs.beta);
      if (x == null || gamma == null || beta == null) throw notFloat32(BATCH_NORM_TRAIN);
      const C = channels(inputs.x);
      const y = ctx.alloc(x.length);
      const mean = new Float32Array(C);
      const variance = new Float32Array(C);
      ctx.addon.batchNormTrain(x, gamma, beta, attrs.epsilon, y, mean, variance);
      return [
        backend.makeTensorInfo(inputs.x.shape, 'float32', y),
        backend.makeTensorInfo([C], 'float32', mean),
        backend.makeTensorInfo([C], 'float32', variance),
      ];
    },
  [BATCH_NORM_TRAIN_GRAD]:
    (ctx: KernelContext) =>
    (
      args: KernelArgs<
        'dy' | 'x' | 'gamma' | 'mean' | 'variance' | 'dmean' | 'dvariance',
        { epsilon: number }
      >,
    ): tf.TensorInfo[] => {
      const { inputs: t, backend, attrs } = args;
      const v = (u: tf.TensorInfo) => {
        const r = f32Values(backend, u);
        if (r == null) throw notFloat32(BATCH_NORM_TRAIN_GRAD);
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
      );
      return [
        backend.makeTensorInfo(t.x.shape, 'float32', dx),
        backend.makeTensorInfo([C], 'float32', dgamma),
        backend.makeTensorInfo([C], 'float32', dbeta),
      ];
    },
};
