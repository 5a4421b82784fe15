import { allocF32, heapOffset, type WasmBackendLike } from '../wasm-backend';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import {
  assemble,
  f32load,
  f32x4add,
  f32x4mul,
  f32x4splat,
  forLoop,
  get,
  I32,
  i32add,
  i32const,
  instantiateOnBackend,
  type AssembleOptions,
  set,
  V128,
  v128load,
  v128store,
  type FuncDef,
} from './asm';

/**
 * `out += aᵀ·b` for a block of the product of `a [K, M]` and `b [K, N]` (row-major float32 on the wasm heap):
 * the weight gradient of a 1×1 convolution, `dW = Xᵀ·dY`, where K (pixels × batch) is large and M, N (channels)
 * small. A register block of `mr` rows × `nr` columns of `out` is held in f32x4 accumulators while `rows` rows
 * of `a` and `b` stream through: per row, `nr/4` vector loads of `b`, `mr` broadcasts of `a`, `mr·nr/4`
 * multiply–adds. Every output element is summed over k in order, in float32 (a multiply, then an add —
 * WebAssembly has no fused multiply–add), so the result does not depend on the blocking.
 *
 * `atb{mr}x{nr}(a, b, out, rows, aRowBytes, bRowBytes, outRowBytes)` — `a` points at `a[k0, m0]`, `b` at
 * `b[k0, n0]`, `out` at `out[m0, n0]`; (mr, nr) ∈ {4, 1} × {8, 4}.
 */
export type AtbFn = (
  a: number,
  b: number,
  out: number,
  rows: number,
  aRowBytes: number,
  bRowBytes: number,
  outRowBytes: number,
) => void;

export interface AtbKernels {
  atb4x8: AtbFn;
  atb1x8: AtbFn;
  atb4x4: AtbFn;
  atb1x4: AtbFn;
}

function atbFn(mr: number, nr: number): FuncDef {
  const [A, B, OUT, ROWS, AROW, BROW, OROW] = [0, 1, 2, 3, 4, 5, 6];
  const nv = nr / 4;
  const [k, ap, bp, o, s] = [7, 8, 9, 10, 11];
  const bv = (j: number) => 12 + j;
  const acc = (i: number, j: number) => 12 + nv + i * nv + j;
  const nLocals = 5 + nv + mr * nv;
  const eachAcc = (f: (i: number, j: number) => number[]) => {
    const out: number[] = [];
    for (let i = 0; i < mr; i++) {
      for (let j = 0; j < nv; j++) out.push(...f(i, j));
      out.push(...get(o), ...get(OROW), ...i32add, ...set(o));
    }
    return out;
  };
  const inner: number[] = [];
  for (let j = 0; j < nv; j++) inner.push(...get(bp), ...v128load(16 * j), ...set(bv(j)));
  for (let i = 0; i < mr; i++) {
    inner.push(...get(ap), ...f32load(4 * i), ...f32x4splat, ...set(s));
    for (let j = 0; j < nv; j++)
      inner.push(...get(acc(i, j)), ...get(s), ...get(bv(j)), ...f32x4mul, ...f32x4add, ...set(acc(i, j)));
  }
  // prettier-ignore
  const body = [
    ...get(OUT), ...set(o),
    ...eachAcc((i, j) => [...get(o), ...v128load(16 * j), ...set(acc(i, j))]),
    ...get(A), ...set(ap),
    ...get(B), ...set(bp),
    ...forLoop(k, get(ROWS), i32const(1), [
      ...inner,
      ...get(ap), ...get(AROW), ...i32add, ...set(ap),
      ...get(bp), ...get(BROW), ...i32add, ...set(bp),
    ]),
    ...get(OUT), ...set(o),
    ...eachAcc((i, j) => [...get(o), ...get(acc(i, j)), ...v128store(16 * j)]),
  ];
  return {
    name: `atb${mr}x${nr}`,
    params: Array<number>(7).fill(I32),
    locals: [...Array<number>(4).fill(I32), ...Array<number>(nLocals - 4).fill(V128)],
    body,
  };
}

function moduleBytes(o: AssembleOptions = {}): Uint8Array {
  return assemble([atbFn(4, 8), atbFn(1, 8), atbFn(4, 4), atbFn(1, 4)], o);
}

/** The `aᵀ·b` block kernels on `backend`'s memory, or null where they cannot be used. */
export function simdAtbKernels(backend: WasmBackendLike): AtbKernels | null {
  return instantiateOnBackend('atb-kernels', backend, moduleBytes) as AtbKernels | null;
}

/** Rows of `a` and `b` per pass over the output blocks: ~128 KiB of `b`, which stays in L2 while reused. */
function chunkRows(n: number): number {
  return Math.max(16, Math.floor(32768 / n));
}

/**
 * `out[M, N] = a[K, M]ᵀ · b[K, N]` with the SIMD block kernels; all three are byte offsets of row-major float32
 * arrays on the heap, N a multiple of 4. `out` is overwritten.
 */
function atb(
  fns: AtbKernels,
  heap: Uint8Array,
  a: number,
  b: number,
  out: number,
  K: number,
  M: number,
  N: number,
): void {
  heap.fill(0, out, out + 4 * M * N);
  const kc = chunkRows(N);
  for (let k0 = 0; k0 < K; k0 += kc) {
    const rows = Math.min(kc, K - k0);
    const ak = a + 4 * k0 * M;
    const bk = b + 4 * k0 * N;
    for (let m0 = 0; m0 < M;) {
      const mr = M - m0 >= 4 ? 4 : 1;
      for (let n0 = 0; n0 < N;) {
        const nr = N - n0 >= 8 ? 8 : 4;
        const f = mr === 4 ? (nr === 8 ? fns.atb4x8 : fns.atb4x4) : nr === 8 ? fns.atb1x8 : fns.atb1x4;
        f(ak + 4 * m0, bk + 4 * n0, out + 4 * (m0 * N + n0), rows, 4 * M, 4 * N, 4 * N);
        n0 += nr;
      }
      m0 += mr;
    }
  }
}

/**
 * `a[K, M]ᵀ · b[K, N]` as a new float32 tensor of `shape` (M·N elements) on `backend`, or null where the SIMD
 * kernels cannot run it (no SIMD module, or N not a multiple of 4): the caller then takes its own path.
 */
export function wasmAtb(
  backend: WasmBackendLike,
  a: TensorInfo,
  b: TensorInfo,
  shape: number[],
  K: number,
  M: number,
  N: number,
): TensorInfo | null {
  const fns = N % 4 === 0 ? simdAtbKernels(backend) : null;
  if (fns == null) return null;
  const out = allocF32(backend, shape);
  atb(
    fns,
    backend.wasm.HEAPU8,
    heapOffset(backend, a),
    heapOffset(backend, b),
    heapOffset(backend, out),
    K,
    M,
    N,
  );
  return out;
}
