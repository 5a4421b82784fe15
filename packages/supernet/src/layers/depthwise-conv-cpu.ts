import * as tf from '@tensorflow/tfjs-core';
import { samePadding } from '@netaug/core';

/**
 * Gradients of a `same`-padded depthwise convolution (channel multiplier 1) computed in JS by contiguous runs
 * over the channels. tfjs-backend-cpu's `DepthwiseConv2dNativeBackpropFilter` reads every element through
 * `TensorBuffer.get` and is ≈100× slower than its forward pass; this is used on that backend only.
 */
function depthwiseGradients(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  dy: tf.Tensor4D,
  stride: number,
): { dx: Float32Array; dw: Float32Array } {
  const [n, h, wd, c] = x.shape;
  const k = w.shape[0];
  const [, oh, ow] = dy.shape;
  const top = samePadding(h, k, stride).before;
  const left = samePadding(wd, k, stride).before;
  const xv = x.dataSync() as Float32Array;
  const wv = w.dataSync() as Float32Array;
  const dyv = dy.dataSync() as Float32Array;
  const dx = new Float32Array(xv.length);
  const dw = new Float32Array(wv.length);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const dyo = ((b * oh + oy) * ow + ox) * c;
        for (let ky = 0; ky < k; ky++) {
          const iy = oy * stride + ky - top;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < k; kx++) {
            const ix = ox * stride + kx - left;
            if (ix < 0 || ix >= wd) continue;
            const xo = ((b * h + iy) * wd + ix) * c;
            const wo = (ky * k + kx) * c;
            for (let ch = 0; ch < c; ch++) {
              const g = dyv[dyo + ch];
              dw[wo + ch] += xv[xo + ch] * g;
              dx[xo + ch] += wv[wo + ch] * g;
            }
          }
        }
      }
    }
  }
  return { dx, dw };
}

/**
 * `tf.depthwiseConv2d(x, w, stride, 'same')` with fast JS gradients on tfjs-backend-cpu (see
 * {@link depthwiseGradients}); other backends use tfjs's own op and gradients.
 */
export function depthwiseConv2dSame(x: tf.Tensor4D, w: tf.Tensor4D, stride: number): tf.Tensor4D {
  if (tf.getBackend() !== 'cpu') return tf.depthwiseConv2d(x, w, stride, 'same');
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, filter] = args as [tf.Tensor4D, tf.Tensor4D];
    const save = args[2] as tf.GradSaveFunc;
    save([input, filter]);
    const value = tf.depthwiseConv2d(input, filter, stride, 'same');
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor4D, tf.Tensor4D];
      const { dx, dw } = depthwiseGradients(sx, sw, dy as tf.Tensor4D, stride);
      return [tf.tensor(dx, sx.shape, 'float32'), tf.tensor(dw, sw.shape, 'float32')];
    };
    return { value, gradFunc };
  });
  return op(x, w) as tf.Tensor4D;
}
