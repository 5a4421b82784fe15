/** Relu / Relu6 and the fused ReLU6 gradient kernel (`NetAugRelu6Grad` of @netaug/backend). */
import type * as tf from '@tensorflow/tfjs-core';
import { f32Values, type KernelArgs, type KernelContext } from './common';
import { ensureRelu6Gradient, RELU6_GRAD } from '../gradients';

function unary(kernelName: string, op: 0 | 1) {
  return (ctx: KernelContext) => (args: KernelArgs<'x'>) => {
    // tfjs' gradients may have been (re)loaded after registerNativeBackend: keep the fused ReLU6 gradient
    if (op === 1) ensureRelu6Gradient();
    const x = f32Values(args.backend, args.inputs.x);
    if (x == null) return ctx.fallback(kernelName, args);
    const y = ctx.alloc(x.length);
    ctx.addon.eltwise(op, x, y);
    return args.backend.makeTensorInfo(args.inputs.x.shape, 'float32', y);
  };
}

export const eltwiseKernels = {
  Relu: unary('Relu', 0),
  Relu6: unary('Relu6', 1),
  [RELU6_GRAD]:
    (ctx: KernelContext) =>
    (args: KernelArgs<'dy' | 'x'>): tf.TensorInfo => {
      const { inputs, backend } = args;
      const dy = f32Values(backend, inputs.dy);
      const x = f32Values(backend, inputs.x);
      if (dy == null || x == null || dy.length !== x.length)
        throw new Error(`${RELU6_GRAD}: dy and x must be float32 tensors of one shape`);
      const dx = ctx.alloc(x.length);
      ctx.addon.eltwiseGrad(1, dy, x, dx);
      return backend.makeTensorInfo(inputs.x.shape, 'float32', dx);
    },
};
