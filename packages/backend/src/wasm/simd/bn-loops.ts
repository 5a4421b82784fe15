import { affineTile, clampTile, forEachTile, jsBnLoops, sumsTile, type BnLoops } from '../../batch-norm-core';
import { allocF32, heapOffset, type WasmBackendLike } from '../wasm-backend';
import { simdBnKernels } from './bn-kernels';

/** {@link BnLoops} run by the SIMD module, with the scratch they need on the heap; `dispose` frees it. */
export interface HeapBnLoops {
  loops: BnLoops;
  dispose(): void;
}

/**
 * SIMD versions of the batch-norm loops for `C` channels on `backend` (same bits as {@link jsBnLoops}), or
 * null where the SIMD module is unavailable or `C < 4`. Allocates 4·C float64 of scratch on the heap: call it
 * after allocating the kernel's outputs and before taking heap views (an allocation may grow the heap).
 * The loops need their Float32Array arguments to be views of the heap (anything else goes to the JS loops);
 * channels past the last multiple of 4 run in the JS loops.
 */
export function simdBnLoops(backend: WasmBackendLike, C: number): HeapBnLoops | null {
  const simd = simdBnKernels(backend);
  if (simd == null || C < 4) return null;
  const scratch = allocF32(backend, [8 * C + 2]); // 4·C float64 + room to align to 8 bytes
  const base = heapOffset(backend, scratch);
  const s = base + (base & 7 ? 8 - (base & 7) : 0);
  const blocks = C >> 2;
  const blocks8 = C >> 3;
  const simdC = 4 * blocks;
  const rowBytes = 4 * C;
  const onHeap = (...v: (Float32Array | null)[]) =>
    v.every((a) => a == null || a.buffer === backend.wasm.HEAPU8.buffer);
  const f64 = () => new Float64Array(backend.wasm.HEAPU8.buffer, s, 4 * C);
  const loops: BnLoops = {
    channelSums(a, b, ka, kb, _C, acc1, acc2) {
      if (!onHeap(a, b)) return jsBnLoops.channelSums(a, b, ka, kb, C, acc1, acc2);
      const h = f64();
      h.set(ka, 0);
      h.set(kb, C);
      h.set(acc1, 2 * C);
      h.set(acc2, 3 * C);
      forEachTile(a.length, C, (t0, t1) => {
        const rows = (t1 - t0) / C;
        const at = a.byteOffset + 4 * t0;
        const bt = b.byteOffset + 4 * t0;
        if (blocks8 > 0) simd.sums8(at, bt, s, s + 8 * C, s + 16 * C, s + 24 * C, rows, rowBytes, blocks8);
        if (blocks > 2 * blocks8) {
          const c = 8 * blocks8; // one block of 4 left
          simd.sums4(at + 4 * c, bt + 4 * c, s + 8 * c, s + 8 * (C + c), s + 8 * (2 * C + c), s + 8 * (3 * C + c), rows, rowBytes, 1); // prettier-ignore
        }
        if (simdC < C) sumsTile(a, b, ka, kb, C, acc1, acc2, t0, t1, simdC);
      });
      for (let c = 0; c < simdC; c++) {
        acc1[c] = h[2 * C + c];
        acc2[c] = h[3 * C + c];
      }
    },
    channelAffine(a, A, b, B, D, _C, out, clampHi = null) {
      const affine =
        b != null ? null : clampHi == null ? simd.affine : clampHi === 6 ? simd.affineRelu6 : clampHi === Infinity ? simd.affineRelu : null; // prettier-ignore
      if (!onHeap(a, b, out) || (b == null && affine == null) || (b != null && clampHi != null))
        return jsBnLoops.channelAffine(a, A, b, B, D, C, out, clampHi);
      const h = f64();
      h.set(A, 0);
      h.set(B, C);
      h.set(D, 2 * C);
      forEachTile(a.length, C, (t0, t1) => {
        const rows = (t1 - t0) / C;
        const at = a.byteOffset + 4 * t0;
        const ot = out.byteOffset + 4 * t0;
        if (affine != null) affine(at, s, s + 16 * C, ot, rows, rowBytes, blocks);
        else simd.affine2(at, s, b!.byteOffset + 4 * t0, s + 8 * C, s + 16 * C, ot, rows, rowBytes, blocks);
        if (simdC < C) {
          affineTile(a, A, b, B, D, C, out, t0, t1, simdC);
          if (clampHi != null) clampTile(out, t0, t1, clampHi); // idempotent on the SIMD channels
        }
      });
    },
  };
  return { loops, dispose: () => void backend.disposeData(scratch.dataId) };
}
