/** The fused optimizer update `NetAugSgdUpdate` that @netaug/trainer's SGD runs when the backend has it. */
import type * as tf from '@tensorflow/tfjs-core';
import { f32Values, type KernelArgs, type KernelContext } from './common';

import { SGD_UPDATE, type SgdUpdateAttrs } from '@netaug/core';

/** Kernel name and attributes: the contract with @netaug/trainer's `Sgd`, declared in @netaug/core. */
export { SGD_UPDATE, type SgdUpdateAttrs };

export const optimKernels = {
  [SGD_UPDATE]:
    (ctx: KernelContext) =>
    (args: KernelArgs<'w' | 'g' | 'buf', SgdUpdateAttrs>): tf.TensorInfo[] => {
      const { inputs, backend, attrs } = args;
      const w = f32Values(backend, inputs.w);
      const g = f32Values(backend, inputs.g);
      const buf = f32Values(backend, inputs.buf);
      if (w == null || g == null || buf == null || g.length !== w.length || buf.length !== w.length)
        throw new Error(`${SGD_UPDATE}: w, g and buf must be float32 tensors of one shape`);
      const wOut = ctx.alloc(w.length);
      const bufOut = ctx.alloc(w.length);
      ctx.addon.sgdUpdate(
        w,
        g,
        buf,
        attrs.lr,
        attrs.momentum,
        attrs.weightDecay,
        !!attrs.nesterov,
        wOut,
        bufOut,
      );
      return [
        backend.makeTensorInfo(inputs.w.shape, 'float32', wOut),
        backend.makeTensorInfo(inputs.w.shape, 'float32', bufOut),
      ];
    },
};
