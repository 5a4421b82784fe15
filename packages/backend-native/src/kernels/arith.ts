/** Add / Sub / Multiply / RealDiv with simple broadcasts, Slice and PadV2 as native copies (float32). */
import * as tf from '@tensorflow/tfjs-core';
import { f32Values, sizeOf, type KernelArgs, type KernelContext } from './common';

/** Below this many output elements tfjs-backend-cpu's JS loop is as fast as an addon call. */
const MIN_NATIVE_SIZE = 2048;

const enum Mode {
  Same = 0,
  ScalarB = 1,
  ScalarA = 2,
  CyclicB = 3,
  CyclicA = 4,
}

function stripLeadingOnes(s: readonly number[]): number[] {
  let i = 0;
  while (i < s.length && s[i] === 1) i++;
  return s.slice(i);
}

/** Whether `small` (leading 1s dropped) is the trailing part of `big`. */
function isSuffix(small: readonly number[], big: readonly number[]): boolean {
  const s = stripLeadingOnes(small);
  if (s.length > big.length) return false;
  const off = big.length - s.length;
  return s.every((d, i) => d === big[off + i]);
}

function binary(kernelName: string, op: 0 | 1 | 2 | 3) {
  return (ctx: KernelContext) => (args: KernelArgs<'a' | 'b'>) => {
    const { inputs, backend } = args;
    const { a, b } = inputs;
    const av = f32Values(backend, a);
    const bv = f32Values(backend, b);
    if (av == null || bv == null) return ctx.cpu(kernelName, args);
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const n = sizeOf(outShape);
    if (n < MIN_NATIVE_SIZE) return ctx.cpu(kernelName, args);
    let mode: Mode;
    let inner = 0;
    if (av.length === n && bv.length === n) mode = Mode.Same;
    else if (bv.length === 1 && av.length === n) mode = Mode.ScalarB;
    else if (av.length === 1 && bv.length === n) mode = Mode.ScalarA;
    else if (av.length === n && isSuffix(b.shape, outShape)) [mode, inner] = [Mode.CyclicB, bv.length];
    else if (bv.length === n && isSuffix(a.shape, outShape)) [mode, inner] = [Mode.CyclicA, av.length];
    else return ctx.cpu(kernelName, args);
    const out = ctx.alloc(n);
    ctx.addon.binary(op, av, bv, out, mode, inner);
    return backend.makeTensorInfo(outShape, 'float32', out);
  };
}

export const arithKernels = {
  Add: binary('Add', 0),
  Sub: binary('Sub', 1),
  Multiply: binary('Multiply', 2),
  RealDiv: binary('RealDiv', 3),
  Slice:
    (ctx: KernelContext) =>
    (args: KernelArgs<'x', { begin: number | number[]; size: number | number[] }>) => {
      const { inputs, backend, attrs } = args;
      const { x } = inputs;
      const xv = f32Values(backend, x);
      if (xv == null || x.shape.length < 1 || x.shape.length > 6) return ctx.cpu('Slice', args);
      const [begin, size] = tf.slice_util.parseSliceParams(
        x as unknown as tf.Tensor,
        attrs.begin,
        attrs.size,
      );
      tf.slice_util.assertParamsValid(x as unknown as tf.Tensor, begin, size);
      const n = sizeOf(size);
      // contiguous slices are subarray views in the cpu kernel: nothing to copy
      // (tfjs-backend-cpu copies other slices element by element through TensorBuffer: ~1 µs per element)
      if (n === 0 || tf.slice_util.isSliceContinous(x.shape, begin, size)) return ctx.cpu('Slice', args);
      const out = ctx.alloc(n);
      const zeros = new Int32Array(size.length);
      ctx.addon.copyBox(
        xv,
        Int32Array.from(x.shape),
        Int32Array.from(begin),
        out,
        Int32Array.from(size),
        zeros,
        Int32Array.from(size),
      );
      return backend.makeTensorInfo(size, 'float32', out);
    },
  PadV2:
    (ctx: KernelContext) =>
    (args: KernelArgs<'x', { paddings: Array<[number, number]>; constantValue: number }>) => {
      const { inputs, backend, attrs } = args;
      const { x } = inputs;
      const xv = f32Values(backend, x);
      const rank = x.shape.length;
      if (xv == null || rank < 1 || rank > 6 || attrs.paddings.length !== rank || xv.length === 0)
        return ctx.cpu('PadV2', args);
      if (attrs.paddings.some(([p0, p1]) => p0 < 0 || p1 < 0)) return ctx.cpu('PadV2', args);
      const outShape = x.shape.map((d, i) => attrs.paddings[i][0] + d + attrs.paddings[i][1]);
      const n = sizeOf(outShape);
      const out = ctx.alloc(n);
      const shape = Int32Array.from(x.shape);
      ctx.addon.copyBox(
        xv,
        shape,
        new Int32Array(rank),
        out,
        Int32Array.from(outShape),
        Int32Array.from(attrs.paddings.map((p) => p[0])),
        shape,
        attrs.constantValue,
      );
      return backend.makeTensorInfo(outShape, 'float32', out);
    },
};
