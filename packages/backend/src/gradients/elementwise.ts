import * as tf from '@tensorflow/tfjs-core';
import { gradient, mask, unbroadcast } from './util';
import { relu6GradientConfig } from '../wasm/kernels/relu6-grad';

// ---- binary, with NumPy broadcasting: each operand's gradient is summed back to its shape ----

/** `a + b`: `da = dy`, `db = dy`. */
export const addGradient = gradient('Add', { inputs: ['a', 'b'] }, (dy, [a, b]) => ({
  a: () => unbroadcast(dy, a.shape),
  b: () => unbroadcast(dy, b.shape),
}));

/** `a − b`: `da = dy`, `db = −dy`. */
export const subGradient = gradient('Sub', { inputs: ['a', 'b'] }, (dy, [a, b]) => ({
  a: () => unbroadcast(dy, a.shape),
  b: () => unbroadcast(tf.neg(dy), b.shape),
}));

/** `a · b`: `da = dy·b`, `db = dy·a`. */
export const multiplyGradient = gradient('Multiply', { inputs: ['a', 'b'] }, (dy, [a, b]) => ({
  a: () => unbroadcast(tf.mul(dy, tf.cast(b, 'float32')), a.shape),
  b: () => unbroadcast(tf.mul(dy, tf.cast(a, 'float32')), b.shape),
}));

/** `a / b`: `da = dy / b`, `db = −dy·a / b²` (summed before the division: `b` is constant along summed axes). */
export const realDivGradient = gradient('RealDiv', { inputs: ['a', 'b'] }, (dy, [a, b]) => ({
  a: () => unbroadcast(tf.div(dy, tf.cast(b, 'float32')), a.shape),
  b: () => {
    const bf = tf.cast(b, 'float32');
    return tf.neg(tf.div(unbroadcast(tf.mul(dy, tf.cast(a, 'float32')), b.shape), tf.square(bf)));
  },
}));

/** `max(a, b)`: the gradient goes to `a` where `a ≥ b`, else to `b` (ties to `a`). */
export const maximumGradient = gradient('Maximum', { inputs: ['a', 'b'] }, (dy, [a, b]) => ({
  a: () => unbroadcast(tf.mul(dy, mask(tf.greaterEqual(a, b))), a.shape),
  b: () => unbroadcast(tf.mul(dy, mask(tf.less(a, b))), b.shape),
}));

/** `min(a, b)`: the gradient goes to `a` where `a ≤ b`, else to `b` (ties to `a`). */
export const minimumGradient = gradient('Minimum', { inputs: ['a', 'b'] }, (dy, [a, b]) => ({
  a: () => unbroadcast(tf.mul(dy, mask(tf.lessEqual(a, b))), a.shape),
  b: () => unbroadcast(tf.mul(dy, mask(tf.greater(a, b))), b.shape),
}));

/** `(a − b)²`: `da = 2(a − b)·dy`, `db = −da`. */
export const squaredDifferenceGradient = gradient(
  'SquaredDifference',
  { inputs: ['a', 'b'] },
  (dy, [a, b]) => ({
    a: () => unbroadcast(tf.mul(dy, tf.mul(tf.sub(a, b), 2)), a.shape),
    b: () => unbroadcast(tf.mul(dy, tf.mul(tf.sub(b, a), 2)), b.shape),
  }),
);

/** `aᵇ`: `da = dy·b·aᵇ⁻¹`, `db = dy·aᵇ·ln a` (taken as 0 where `a ≤ 0`). */
export const powGradient = gradient('Pow', { inputs: ['a', 'b'], outputs: [true] }, (dy, [a, b, y]) => ({
  a: () => {
    const bf = tf.cast(b, 'float32');
    return unbroadcast(tf.mul(dy, tf.mul(bf, tf.pow(a, tf.sub(bf, 1)))), a.shape);
  },
  b: () => {
    const positive = tf.greater(a, 0);
    const lnA = tf.where(positive, tf.log(tf.where(positive, a, tf.onesLike(a))), tf.zerosLike(a));
    return unbroadcast(tf.mul(dy, tf.mul(y, lnA)), b.shape);
  },
}));

/** `Σᵢ xᵢ` (any number of same-shape inputs): every input gets `dy`. */
export const addNGradient = gradient('AddN', { allInputs: true }, (dy, saved) =>
  Object.fromEntries(saved.map((_, i) => [String(i), () => tf.clone(dy)])),
);

// ---- unary ----

/** `−x`: `dx = −dy`. */
export const negGradient = gradient('Neg', {}, (dy) => ({ x: () => tf.neg(dy) }));

/** `x²`: `dx = 2x·dy`. */
export const squareGradient = gradient('Square', { inputs: ['x'] }, (dy, [x]) => ({
  x: () => tf.mul(dy, tf.mul(tf.cast(x, 'float32'), 2)),
}));

/** `√x = y`: `dx = dy / 2y`. */
export const sqrtGradient = gradient('Sqrt', { outputs: [true] }, (dy, [y]) => ({
  x: () => tf.div(dy, tf.mul(y, 2)),
}));

/** `1/√x = y`: `dx = −½·y³·dy`. */
export const rsqrtGradient = gradient('Rsqrt', { outputs: [true] }, (dy, [y]) => ({
  x: () => tf.mul(dy, tf.mul(tf.mul(tf.square(y), y), -0.5)),
}));

/** `1/x = y`: `dx = −y²·dy`. */
export const reciprocalGradient = gradient('Reciprocal', { outputs: [true] }, (dy, [y]) => ({
  x: () => tf.neg(tf.mul(dy, tf.square(y))),
}));

/** `eˣ = y`: `dx = y·dy`. */
export const expGradient = gradient('Exp', { outputs: [true] }, (dy, [y]) => ({
  x: () => tf.mul(dy, y),
}));

/** `ln x`: `dx = dy / x`. */
export const logGradient = gradient('Log', { inputs: ['x'] }, (dy, [x]) => ({
  x: () => tf.div(dy, tf.cast(x, 'float32')),
}));

/** `ln(1 + x)`: `dx = dy / (1 + x)`. */
export const log1pGradient = gradient('Log1p', { inputs: ['x'] }, (dy, [x]) => ({
  x: () => tf.div(dy, tf.add(tf.cast(x, 'float32'), 1)),
}));

/** `|x|`: `dx = sign(x)·dy` (0 at x = 0). */
export const absGradient = gradient('Abs', { inputs: ['x'] }, (dy, [x]) => ({
  x: () => tf.mul(dy, tf.sign(tf.cast(x, 'float32'))),
}));

/** `max(x, 0)`: `dx = dy` where `x > 0`, else 0. */
export const reluGradient = gradient('Relu', { inputs: ['x'] }, (dy, [x]) => ({
  x: () => tf.mul(dy, tf.step(tf.cast(x, 'float32'))),
}));

/**
 * `min(max(x, 0), 6)`: `dx = dy` where `0 < x ≤ 6`, else 0. The same registration as `registerRelu6Gradient`
 * (one fused kernel on backends that have it), marked `netaug` so that @netaug/backend-native keeps it.
 */
export const relu6Gradient = relu6GradientConfig;

/** `x > 0 ? x : αx`: `dx = dy` where `x > 0`, else `α·dy`. */
export const leakyReluGradient = gradient('LeakyRelu', { inputs: ['x'] }, (dy, [x], attrs) => ({
  x: () => tf.where(tf.greater(x, 0), dy, tf.mul(dy, attrs.alpha as number)),
}));

/** `σ(x) = y`: `dx = dy·y·(1 − y)`. */
export const sigmoidGradient = gradient('Sigmoid', { outputs: [true] }, (dy, [y]) => ({
  x: () => tf.mul(dy, tf.mul(y, tf.sub(1, y))),
}));

/** `tanh x = y`: `dx = dy·(1 − y²)`. */
export const tanhGradient = gradient('Tanh', { outputs: [true] }, (dy, [y]) => ({
  x: () => tf.mul(dy, tf.sub(1, tf.square(y))),
}));

/** `ln(1 + eˣ)`: `dx = dy·σ(x)`. */
export const softplusGradient = gradient('Softplus', { inputs: ['x'] }, (dy, [x]) => ({
  x: () => tf.mul(dy, tf.sigmoid(x)),
}));

/** `clip(x, lo, hi)`: `dx = dy` where `lo ≤ x ≤ hi`, else 0. */
export const clipByValueGradient = gradient('ClipByValue', { inputs: ['x'] }, (dy, [x], attrs) => ({
  x: () => {
    const inside = tf.logicalAnd(
      tf.greaterEqual(x, attrs.clipValueMin as number),
      tf.lessEqual(x, attrs.clipValueMax as number),
    );
    return tf.mul(dy, mask(inside));
  },
}));

/** `cond ? t : e`: `dt = dy` where `cond`, `de = dy` elsewhere; the (bool) condition gets zeros. */
export const selectGradient = gradient('Select', { inputs: ['condition'] }, (dy, [condition]) => ({
  condition: () => tf.zeros(condition.shape, 'float32'),
  t: () => tf.mul(dy, mask(condition)),
  e: () => tf.mul(dy, mask(tf.logicalNot(condition))),
}));
