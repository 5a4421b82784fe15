import * as tf from '@tensorflow/tfjs-core';
import type { ChannelPermutation } from '@netaug/core';
import type { DynamicBlock } from './block';

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

/**
 * NetAug's channel sorting, generic over blocks: for every channel group of every block (see
 * {@link DynamicBlock.channelGroups}; for an inverted bottleneck, its expanded channels ranked by the L1 norm of the
 * projection conv's input-channel slices over the full supernet weights), reorders every member variable along its
 * axis the same way, so the first channels (the ones the tiny model keeps) are the most important. The supernet's
 * function is unchanged. Returns one {@link ChannelPermutation} per variable touched, so a trainer can permute
 * optimizer slots too.
 */
export function sortChannels(blocks: readonly DynamicBlock[]): ChannelPermutation[] {
  const perms: ChannelPermutation[] = [];
  for (const block of blocks) {
    for (const group of block.channelGroups()) {
      const [imp, impAxis] = group.importance;
      const perm = descendingOrder(l1NormsAlong(imp.variable, impAxis));
      if (perm.every((p, i) => p === i)) continue;
      for (const [nv, axis] of group.members) {
        const permuted = permuteAlong(nv.variable, axis, perm);
        nv.variable.assign(permuted);
        permuted.dispose();
        perms.push({ variable: nv.name, axis, perm: Int32Array.from(perm) });
      }
    }
  }
  return perms;
}
