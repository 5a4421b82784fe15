import * as tf from '@tensorflow/tfjs-core';
import { gradient, normAxes } from './util';

/** Reshape: `dx = dy` in the input's shape. */
export const reshapeGradient = gradient('Reshape', { inputs: ['x'] }, (dy, [x]) => ({
  x: () => tf.reshape(dy, x.shape),
}));

/** ExpandDims: `dx = dy` in the input's shape. */
export const expandDimsGradient = gradient('ExpandDims', { inputs: ['input'] }, (dy, [input]) => ({
  input: () => tf.reshape(dy, input.shape),
}));

/** Transpose by `perm`: `dx` is `dy` transposed by the inverse permutation. */
export const transposeGradient = gradient('Transpose', {}, (dy, _saved, attrs) => {
  const perm = attrs.perm as number[];
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return { x: () => tf.transpose(dy, inverse) };
});

/** Cast (float → float is the only differentiable case): `dx = dy`. */
export const castGradient = gradient('Cast', {}, (dy) => ({ x: () => tf.clone(dy) }));

/** Identity (`tf.clone`, the engine's copies): `dx = dy`. */
export const identityGradient = gradient('Identity', {}, (dy) => ({ x: () => tf.cast(dy, 'float32') }));

/** `begin` / `size` of a Slice as full-rank lists (`size` −1: to the end). */
function sliceBounds(shape: readonly number[], begin: unknown, size: unknown): [number[], number[]] {
  const b = shape.map((_, i) =>
    Array.isArray(begin) ? ((begin as number[])[i] ?? 0) : i === 0 ? (begin as number) : 0,
  );
  const s = shape.map((d, i) => {
    const v = Array.isArray(size) ? (size as number[])[i] : i === 0 ? (size as number) : undefined;
    return v == null || v === -1 ? d - b[i] : v;
  });
  return [b, s];
}

/** Slice `[begin, begin + size)`: `dx` is `dy` zero-padded back to the input's shape. */
export const sliceGradient = gradient('Slice', { inputs: ['x'] }, (dy, [x], attrs) => {
  const [begin, size] = sliceBounds(x.shape, attrs.begin, attrs.size);
  return {
    x: () =>
      tf.pad(
        dy,
        x.shape.map((d, i) => [begin[i], d - begin[i] - size[i]] as [number, number]),
      ),
  };
});

/** Constant padding: `dx` is the un-padded block of `dy`. */
export const padV2Gradient = gradient('PadV2', { inputs: ['x'] }, (dy, [x], attrs) => {
  const paddings = attrs.paddings as unknown as [number, number][];
  return {
    x: () =>
      tf.slice(
        dy,
        paddings.map((p) => p[0]),
        x.shape,
      ),
  };
});

/** Concat along `axis`: each input gets its block of `dy`. */
export const concatGradient = gradient('Concat', { allInputs: true }, (dy, saved, attrs) => {
  const [axis] = normAxes(attrs.axis, saved[0].rank);
  const parts = tf.split(
    dy,
    saved.map((t) => t.shape[axis]),
    axis,
  );
  return Object.fromEntries(parts.map((p, i) => [String(i), () => p]));
});

/** Pack (`tf.stack`) along `axis`: each input gets its slice of `dy`. */
export const packGradient = gradient('Pack', { allInputs: true }, (dy, _saved, attrs) => {
  const parts = tf.unstack(dy, attrs.axis as number);
  return Object.fromEntries(parts.map((p, i) => [String(i), () => p]));
});

/** Tile by `reps`: `dx` sums the `reps` copies (dy viewed as `[r₀, d₀, r₁, d₁, …]`, summed over the `rᵢ`). */
export const tileGradient = gradient('Tile', { inputs: ['x'] }, (dy, [x], attrs) => {
  const reps = attrs.reps as number[];
  return {
    x: () => {
      const split = x.shape.flatMap((d, i) => [reps[i], d]);
      const repAxes = x.shape.map((_, i) => 2 * i);
      return tf.reshape(tf.sum(tf.reshape(dy, split), repAxes), x.shape);
    },
  };
});

/** Unpack (`tf.unstack`) along `axis`: `dx` stacks the outputs' gradients (zeros for unused outputs). */
export const unpackGradient: tf.GradConfig = {
  kernelName: 'Unpack',
  gradFunc: (dys, _saved, attrs) => {
    const list = Array.isArray(dys) ? dys : [dys];
    return { value: () => tf.stack(list, attrs.axis as number) };
  },
};

/** SplitV (`tf.split`) along `axis`: `dx` concatenates the outputs' gradients. */
export const splitVGradient: tf.GradConfig = {
  kernelName: 'SplitV',
  gradFunc: (dys, _saved, attrs) => {
    const list = Array.isArray(dys) ? dys : [dys];
    return { x: () => tf.concat(list, attrs.axis as number) };
  },
};
