import * as tf from '@tensorflow/tfjs-core';

import { RELU6_GRAD } from '@netaug/core';

/** Kernel name of the fused ReLU6 gradient (the one @netaug/backend registers for wasm; declared in @netaug/core). */
export { RELU6_GRAD };

/**
 * The ReLU6 gradient of @netaug/backend (`registerRelu6Gradient`): one `NetAugRelu6Grad` kernel on backends
 * that have it (wasm, native) instead of tfjs' five full-size tensors (`dy · cast(lessEqual(x, 6) · step(x))`);
 * elsewhere exactly tfjs' formula. Gradients are global, so it is registered the same way, marked `netaug`
 * (both packages recognise the mark and do not replace each other's).
 */
export function ensureRelu6Gradient(): void {
  const current = tf.getGradient('Relu6') as { netaug?: boolean } | undefined;
  // none yet: tfjs' gradients are loaded later (and would replace this); the Relu6 kernel calls this again
  if (current == null || current.netaug) return;
  const config = {
    kernelName: 'Relu6',
    inputsToSave: ['x'],
    netaug: true,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [x] = saved;
      const d = dy as tf.Tensor;
      if (
        tf.getKernel(RELU6_GRAD, tf.getBackend()) != null &&
        x.dtype === 'float32' &&
        d.dtype === 'float32'
      ) {
        return { x: () => tf.engine().runKernel(RELU6_GRAD, { dy: d, x }, {}) as tf.Tensor };
      }
      const mask = tf.mul(tf.lessEqual(x, 6), tf.step(x));
      return { x: () => tf.mul(d, tf.cast(mask, 'float32')) };
    },
  };
  tf.registerGradient(config as tf.GradConfig);
}
