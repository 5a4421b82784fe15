/** BatchMatMul (and _FusedMatMul's product) on oneDNN's matmul primitive. */
import * as tf from '@tensorflow/tfjs-core';
import { f32Values, sizeOf, type KernelArgs, type KernelContext } from './common';

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** `a · b` (with transposes and a broadcast batch of 1), or null when the native path cannot do it. */
export function nativeMatMul(
  ctx: KernelContext,
  args: KernelArgs<'a' | 'b', MatMulAttrs>,
): tf.TensorInfo | null {
  const { inputs, backend, attrs } = args;
  const { a, b } = inputs;
  if (a.shape.length < 2 || b.shape.length < 2) return null;
  const av = f32Values(backend, a);
  const bv = f32Values(backend, b);
  if (av == null || bv == null) return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const M = attrs.transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = attrs.transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const Kb = attrs.transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const N = attrs.transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (K !== Kb || M < 1 || K < 1 || N < 1) return null; // the cpu kernel reports the mismatch
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = sizeOf(outerA);
  const batchB = sizeOf(outerB);
  const sameOuter = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
  if (!(sameOuter || batchA === 1 || batchB === 1) || batchA < 1 || batchB < 1) return null;
  const outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
  const outShape = [...outer, M, N];
  const out = ctx.alloc(sizeOf(outShape));
  const dims = Int32Array.from([batchA, batchB, M, K, N, attrs.transposeA ? 1 : 0, attrs.transposeB ? 1 : 0]);
  ctx.addon.matMul(av, bv, out, dims);
  return backend.makeTensorInfo(outShape, 'float32', out);
}

export const matMulKernels = {
  BatchMatMul: (ctx: KernelContext) => (args: KernelArgs<'a' | 'b', MatMulAttrs>) =>
    nativeMatMul(ctx, args) ?? ctx.fallback('BatchMatMul', args),
};
