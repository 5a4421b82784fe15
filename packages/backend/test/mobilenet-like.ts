/** A small MobileNetV2-like network written with tfjs ops, for whole-network gradient and leak tests. */
import * as tf from '@tensorflow/tfjs-core';
import { randomData } from './helpers';

export type Params = Record<string, tf.Variable>;

/** Creates the network's variables deterministically (same values on every backend). */
export function makeParams(seed = 1): Params {
  const p: Params = {};
  let s = seed;
  const v = (name: string, shape: number[], scale: number, offset = 0) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = randomData(size, s++).map((x) => x * scale + offset);
    p[name] = tf.variable(
      tf.tensor(data, shape),
      true,
      `${name}_${seed}_${Math.random().toString(36).slice(2)}`,
    );
  };
  const conv = (n: string, k: number, ci: number, co: number) =>
    v(n, [k, k, ci, co], Math.sqrt(3 / (k * k * ci)));
  const dw = (n: string, k: number, c: number) => v(n, [k, k, c, 1], Math.sqrt(3 / (k * k)));
  const bn = (n: string, c: number) => {
    v(`${n}_g`, [c], 0.2, 1);
    v(`${n}_b`, [c], 0.2);
  };
  conv('stem', 3, 3, 8);
  bn('stem_bn', 8);
  dw('b0_dw', 3, 8);
  bn('b0_bn1', 8);
  conv('b0_pw', 1, 8, 8);
  bn('b0_bn2', 8);
  conv('b1_exp', 1, 8, 24);
  bn('b1_bn0', 24);
  dw('b1_dw', 5, 24);
  bn('b1_bn1', 24);
  conv('b1_pw', 1, 24, 8);
  bn('b1_bn2', 8);
  conv('b2_exp', 1, 8, 24);
  bn('b2_bn0', 24);
  dw('b2_dw', 3, 24);
  bn('b2_bn1', 24);
  conv('b2_pw', 1, 24, 16);
  bn('b2_bn2', 16);
  v('fc_w', [16, 10], 0.4);
  v('fc_b', [10], 0.1);
  return p;
}

/** Batch norm with batch statistics (tf.moments), as in training. */
function bn(x: tf.Tensor4D, p: Params, n: string): tf.Tensor4D {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), p[`${n}_g`]), p[`${n}_b`]);
}

const hswish = (x: tf.Tensor4D): tf.Tensor4D => tf.div(tf.mul(x, tf.relu6(tf.add(x, 3))), 6);

/** Logits [N, 10] of input x [N, H, W, 3]. */
export function forward(p: Params, x: tf.Tensor4D): tf.Tensor2D {
  // stem: conv 3×3 s2 → BN → relu6
  let h = tf.relu6(bn(tf.conv2d(x, p.stem as tf.Tensor4D, 2, 'same'), p, 'stem_bn'));
  // block 0 (t = 1): depthwise 3×3 → BN → relu6 → 1×1 project → BN
  let t = tf.relu6(bn(tf.depthwiseConv2d(h, p.b0_dw as tf.Tensor4D, 1, 'same'), p, 'b0_bn1'));
  h = bn(tf.conv2d(t, p.b0_pw as tf.Tensor4D, 1, 'same'), p, 'b0_bn2');
  // block 1: inverted residual with shortcut; hswish, channel slicing (slice/concat), depthwise 5×5
  t = hswish(bn(tf.conv2d(h, p.b1_exp as tf.Tensor4D, 1, 'same'), p, 'b1_bn0'));
  t = tf.concat(
    [tf.slice(t, [0, 0, 0, 0], [-1, -1, -1, 12]), tf.slice(t, [0, 0, 0, 12], [-1, -1, -1, 12])],
    3,
  );
  t = tf.relu6(bn(tf.depthwiseConv2d(t, p.b1_dw as tf.Tensor4D, 1, 'same'), p, 'b1_bn1'));
  h = tf.add(h, bn(tf.conv2d(t, p.b1_pw as tf.Tensor4D, 1, 'same'), p, 'b1_bn2'));
  // block 2: stride-2 block (no shortcut)
  t = tf.relu6(bn(tf.conv2d(h, p.b2_exp as tf.Tensor4D, 1, 'same'), p, 'b2_bn0'));
  t = tf.relu6(bn(tf.depthwiseConv2d(t, p.b2_dw as tf.Tensor4D, 2, 'same'), p, 'b2_bn1'));
  h = bn(tf.conv2d(t, p.b2_pw as tf.Tensor4D, 1, 'same'), p, 'b2_bn2');
  // channel padding (pad of a channel slice), as a width-sliced supernet does
  h = tf.add(
    tf.pad(tf.slice(h, [0, 0, 0, 0], [-1, -1, -1, 12]), [
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 4],
    ]),
    h,
  );
  const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
  return tf.add(tf.matMul(pooled, p.fc_w as tf.Tensor2D), p.fc_b);
}

/** Softmax cross-entropy loss on fixed labels. */
export function loss(p: Params, x: tf.Tensor4D, labels: tf.Tensor2D): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(labels, forward(p, x)) as tf.Scalar;
}
