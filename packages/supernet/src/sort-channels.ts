import * as tf from '@tensorflow/tfjs-core';
import type { ChannelPermutation } from '@netaug/core';
import { MBBlock } from './blocks/mb-block';
import type { DSBlock } from './blocks/ds-block';
import type { TfNamedVariable } from './layers/named-variable';

/** Indices that sort `importance` in non-increasing order (ties keep their order). */
function descendingOrder(importance: Float64Array): Int32Array {
  const idx = Array.from({ length: importance.length }, (_, i) => i);
  idx.sort((a, b) => importance[b] - importance[a] || a - b);
  return Int32Array.from(idx);
}

/** `[outer, n, inner]` view of `shape` around `axis`. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  const prod = (a: readonly number[]) => a.reduce((x, y) => x * y, 1);
  return [prod(shape.slice(0, axis)), shape[axis], prod(shape.slice(axis + 1))];
}

/** L1 norm of every slice `t[..., i, ...]` along `axis`. */
export function l1NormsAlong(t: tf.Tensor, axis: number): Float64Array {
  const data = t.dataSync() as Float32Array;
  const [outer, n, inner] = around(t.shape, axis);
  const norms = new Float64Array(n);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      const base = (o * n + i) * inner;
      for (let j = 0; j < inner; j++) s += Math.abs(data[base + j]);
      norms[i] += s;
    }
  }
  return norms;
}

/** `new[..., i, ...] = old[..., perm[i], ...]` along `axis`, in JS by contiguous runs (done once per epoch). */
export function permuteAlong(t: tf.Tensor, axis: number, perm: Int32Array): tf.Tensor {
  const data = t.dataSync() as Float32Array;
  const [outer, n, inner] = around(t.shape, axis);
  const out = new Float32Array(data.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < n; i++) {
      const src = (o * n + perm[i]) * inner;
      out.set(data.subarray(src, src + inner), (o * n + i) * inner);
    }
  }
  return tf.tensor(out, t.shape, 'float32');
}

/** The variables of an inverted bottleneck whose axis indexes its expanded channels, with that axis. */
function expandedChannelAxes(block: MBBlock): [TfNamedVariable, number][] {
  const out: [TfNamedVariable, number][] = [];
  const { expand, depthwise, se, project } = block;
  out.push([(expand.conv as { weight: TfNamedVariable }).weight, 3]);
  for (const v of expand.bn!.variables()) out.push([v, 0]);
  out.push([depthwise.conv.weight, 2]);
  for (const v of depthwise.bn!.variables()) out.push([v, 0]);
  if (se) {
    out.push([se.reduce.weight, 2]);
    out.push([se.expand.weight, 3]);
    out.push([se.expand.bias!, 0]);
  }
  out.push([project.conv.weight, 2]);
  return out;
}

/**
 * NetAug's channel sorting: in every inverted bottleneck, ranks the expanded channels by the L1 norm of the
 * projection conv's input-channel slices (over the full supernet weights) and reorders, consistently, the
 * expand conv outputs and its BN (gamma, beta, running stats), the depthwise conv and its BN, the
 * squeeze-excite (reduce inputs, expand outputs and bias) and the projection inputs, so the first channels
 * (the ones the tiny model keeps) are the most important. The supernet's function is unchanged.
 * Returns one {@link ChannelPermutation} per variable touched, so a trainer can permute optimizer slots too.
 */
export function sortChannels(blocks: readonly (DSBlock | MBBlock)[]): ChannelPermutation[] {
  const perms: ChannelPermutation[] = [];
  for (const block of blocks) {
    if (!(block instanceof MBBlock)) continue;
    const perm = descendingOrder(l1NormsAlong(block.project.conv.weight.variable, 2));
    if (perm.every((p, i) => p === i)) continue;
    for (const [nv, axis] of expandedChannelAxes(block)) {
      const permuted = permuteAlong(nv.variable, axis, perm);
      nv.variable.assign(permuted);
      permuted.dispose();
      perms.push({ variable: nv.name, axis, perm: Int32Array.from(perm) });
    }
  }
  return perms;
}
