import type { WasmBackendLike } from '../wasm-backend';
import {
  assemble,
  f32const,
  f32x4gt,
  f32x4le,
  f32x4lt,
  f32x4mul,
  f32x4pmax,
  f32x4pmin,
  f32x4add,
  f32x4splat,
  f64const,
  f64x2add,
  f64x2mul,
  f64x2promoteLow,
  f64x2splat,
  f64x2sub,
  f32x4demote,
  forLoop,
  get,
  I32,
  i32add,
  i32mul,
  i32const,
  instantiateOnBackend,
  type AssembleOptions,
  set,
  tee,
  V128,
  v128and,
  v128load,
  v128load64zero,
  v128store,
  v128store64lane0,
  type FuncDef,
} from './asm';

/**
 * SIMD loops of the training batch norm and the ReLU6 gradient, run in place on the wasm heap. They compute
 * exactly what the JS loops of `batch-norm-core` / `relu6-grad` compute, bit for bit: the same float64
 * operations (no fused multiply-add in WebAssembly) in the same order per channel, two channels per f64x2.
 * Arguments are byte offsets into the heap (f32 tensors; f64 coefficient arrays, 8-byte aligned) and counts.
 *
 * - `relu6Grad(dx, dy, x, nBytes)`: `dx = dy · (0 < x ≤ 6 ? 1 : 0)` over `nBytes` (a multiple of 16);
 *   `relu6GradY` / `reluGradY` the same with the mask `0 < y < 6` / `0 < y` of an activation's output `y`.
 * - `sums4(a, b, ka, kb, acc1, acc2, rows, rowBytes, blocks)`: for the first `4·blocks` channels of a
 *   `rows × C` tile (`rowBytes = 4·C`), `acc1[c] += Σ (a − ka[c])`, `acc2[c] += Σ (a − ka[c])·(b − kb[c])`,
 *   each sum taken over the tile's rows in a local started at 0, then added (as `sumsTile` does). `sums8` is
 *   the same over `8·blocks` channels (more independent sums in flight per row).
 * - `affine(a, A, D, out, rows, rowBytes, blocks)`: `out = f32(a·A[c] + D[c])`; `affineRelu` /
 *   `affineRelu6` clamp the rounded value to [0, ∞) / [0, 6] (−0 → +0, NaN kept: the bits of JS's `min(max(v, 0), 6)`).
 * - `affine2(a, A, b, B, D, out, rows, rowBytes, blocks)`: `out = f32(a·A[c] + b·B[c] + D[c])`.
 */
/** `dx = dy · mask` over `nBytes` (byte offsets; a multiple of 16 bytes). */
export type MaskFn = (dx: number, dy: number, v: number, nBytes: number) => void;

/** Signature of `affine` and its clamped variants. */
export type AffineFn = (
  a: number,
  A: number,
  D: number,
  out: number,
  rows: number,
  rowBytes: number,
  blocks: number,
) => void;

/** Signature of `sums4` / `sums8` (byte offsets, counts). */
export type SumsFn = (
  a: number,
  b: number,
  ka: number,
  kb: number,
  acc1: number,
  acc2: number,
  rows: number,
  rowBytes: number,
  blocks: number,
) => void;

export interface BnSimd {
  relu6Grad: MaskFn;
  relu6GradY: MaskFn;
  reluGradY: MaskFn;
  /** `sums` over blocks of 4 channels (`blocks` of them); `sums8` the same over blocks of 8. */
  sums4: SumsFn;
  sums8: SumsFn;
  affine: AffineFn;
  affineRelu: AffineFn;
  affineRelu6: AffineFn;
  affine2(
    a: number,
    A: number,
    b: number,
    B: number,
    D: number,
    out: number,
    rows: number,
    rowBytes: number,
    blocks: number,
  ): void;
}

/** `promote(f32 pair at addr + offset) − k` as f64x2 (addr pushed by `addr`). */
const lanePair = (addr: number[], offset: number, k: number) => [
  ...addr,
  ...v128load64zero(offset),
  ...f64x2promoteLow,
  ...get(k),
  ...f64x2sub,
];

/**
 * `dx = dy · mask(v)` with mask 1.0 / +0.0: `relu6Grad` 0 < v ≤ 6 (v the ReLU6 input), `relu6GradY` 0 < v < 6 and
 * `reluGradY` 0 < v (v the activation's output, as the fused batch norm + activation saves it).
 */
function maskFn(name: 'relu6Grad' | 'relu6GradY' | 'reluGradY'): FuncDef {
  const [DX, DY, X, N] = [0, 1, 2, 3];
  const [p, xv, zero, six, one] = [4, 5, 6, 7, 8];
  const upper =
    name === 'reluGradY'
      ? []
      : [...get(xv), ...get(six), ...(name === 'relu6Grad' ? f32x4le : f32x4lt), ...v128and];
  // prettier-ignore
  const body = [
    ...f32const(0), ...f32x4splat, ...set(zero),
    ...f32const(6), ...f32x4splat, ...set(six),
    ...f32const(1), ...f32x4splat, ...set(one),
    ...forLoop(p, get(N), i32const(16), [
      ...get(DX), ...get(p), ...i32add, // store address
      ...get(DY), ...get(p), ...i32add, ...v128load(),
      ...get(X), ...get(p), ...i32add, ...v128load(), ...tee(xv), ...get(zero), ...f32x4gt,
      ...upper,
      ...get(one), ...v128and, // 1.0 where the mask holds, else +0.0
      ...f32x4mul,
      ...v128store(),
    ]),
  ];
  return { name, params: [I32, I32, I32, I32], locals: [I32, V128, V128, V128, V128], body };
}

/** `dst = v128.load(base + db + off)`: two float64 coefficients of a channel block (all four are locals/offsets). */
function loadPair(base: number, db: number, off: number, dst: number): number[] {
  return [...get(base), ...get(db), ...i32add, ...v128load(off), ...set(dst)];
}

/** `sums` over blocks of `width` (4 or 8) channels: width/2 f64x2 lane pairs, each its own accumulators. */
function sumsFn(width: 4 | 8): FuncDef {
  const [A, B, KA, KB, ACC1, ACC2, ROWS, ROWB, BLOCKS] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [cb, db, r, ap, bp] = [9, 10, 11, 12, 13];
  const P = width / 2;
  const pairs = Array.from({ length: P }, (_, p) => p);
  const ka = (p: number) => 14 + p;
  const kb = (p: number) => 14 + P + p;
  const sum = (p: number) => 14 + 2 * P + p;
  const sq = (p: number) => 14 + 3 * P + p;
  const d = (p: number) => 14 + 4 * P + p;
  const load2 = (base: number, off: number, dst: number) => loadPair(base, db, off, dst);
  const accumulate = (acc: number, off: number, local: number) => [
    ...get(acc),
    ...get(db),
    ...i32add,
    ...get(acc),
    ...get(db),
    ...i32add,
    ...v128load(off),
    ...get(local),
    ...f64x2add,
    ...v128store(off),
  ];
  const zero = [...f64const(0), ...f64x2splat];
  const each = (f: (p: number) => number[]) => pairs.flatMap(f);
  // prettier-ignore
  const body = forLoop(cb, [...get(BLOCKS), ...i32const(4 * width), ...i32mul], i32const(4 * width), [
    ...get(cb), ...get(cb), ...i32add, ...set(db), // f64 offset of the block: 2 × its f32 offset
    ...each((p) => [...load2(KA, 16 * p, ka(p)), ...load2(KB, 16 * p, kb(p))]),
    ...each((p) => [...zero, ...set(sum(p)), ...zero, ...set(sq(p))]),
    ...get(A), ...get(cb), ...i32add, ...set(ap),
    ...get(B), ...get(cb), ...i32add, ...set(bp),
    ...forLoop(r, get(ROWS), i32const(1), [
      ...each((p) => [...lanePair(get(ap), 8 * p, ka(p)), ...set(d(p))]),
      ...each((p) => [...get(sum(p)), ...get(d(p)), ...f64x2add, ...set(sum(p))]),
      ...each((p) => [
        ...get(sq(p)), ...get(d(p)), ...lanePair(get(bp), 8 * p, kb(p)), ...f64x2mul, ...f64x2add, ...set(sq(p)),
      ]),
      ...get(ap), ...get(ROWB), ...i32add, ...set(ap),
      ...get(bp), ...get(ROWB), ...i32add, ...set(bp),
    ]),
    ...each((p) => [...accumulate(ACC1, 16 * p, sum(p)), ...accumulate(ACC2, 16 * p, sq(p))]),
  ]);
  return {
    name: `sums${width}`,
    params: Array<number>(9).fill(I32),
    locals: [...Array<number>(5).fill(I32), ...Array<number>(5 * P).fill(V128)],
    body,
  };
}

/** `affine` (withB false), `affine2`, or `affine` clamped to [0, ∞) (`affineRelu`) / [0, 6] (`affineRelu6`). */
function affineFn(withB: boolean, clamp: 'relu' | 'relu6' | null = null): FuncDef {
  // parameters: a, A, [b, B,] D, out, rows, rowBytes, blocks
  const names = withB
    ? ['a', 'A', 'b', 'B', 'D', 'out', 'rows', 'rowB', 'blocks']
    : ['a', 'A', 'D', 'out', 'rows', 'rowB', 'blocks'];
  const P = Object.fromEntries(names.map((n, k) => [n, k])) as Record<string, number>;
  const n = names.length;
  const [cb, db, r, ap, bp, op] = [n, n + 1, n + 2, n + 3, n + 4, n + 5];
  const [AL, AH, BL, BH, DL, DH] = [n + 6, n + 7, n + 8, n + 9, n + 10, n + 11];
  const [lo, hi] = [n + 12, n + 13];
  // On the rounded float32 values, with the single-instruction pseudo-min/max: pmax(v, 0) = v < 0 ? 0 : v keeps
  // NaN, + 0 turns −0 into +0, pmin(t, 6) = 6 < t ? 6 : t — the bits of JS's min(max(v, 0), 6) (f64x2.min/max,
  // which propagate NaN and order ±0, measured ~2× slower here).
  const clampOps = [
    ...(clamp != null ? [...get(lo), ...f32x4pmax, ...get(lo), ...f32x4add] : []),
    ...(clamp === 'relu6' ? [...get(hi), ...f32x4pmin] : []),
  ];
  const load2 = (base: number, off: number, dst: number) => loadPair(base, db, off, dst);
  /** out[lane pair at off] = demote(promote(a)·A [+ promote(b)·B] + D) */
  const pair = (off: number, Ak: number, Bk: number, Dk: number) => [
    ...get(op),
    ...get(ap),
    ...v128load64zero(off),
    ...f64x2promoteLow,
    ...get(Ak),
    ...f64x2mul,
    ...(withB
      ? [...get(bp), ...v128load64zero(off), ...f64x2promoteLow, ...get(Bk), ...f64x2mul, ...f64x2add]
      : []),
    ...get(Dk),
    ...f64x2add,
    ...f32x4demote,
    ...clampOps,
    ...v128store64lane0(off),
  ];
  // prettier-ignore
  const body = [
    ...f32const(0), ...f32x4splat, ...set(lo),
    ...f32const(6), ...f32x4splat, ...set(hi),
    ...forLoop(cb, [...get(P.blocks), ...i32const(16), ...i32mul], i32const(16), [
    ...get(cb), ...get(cb), ...i32add, ...set(db),
    ...load2(P.A, 0, AL), ...load2(P.A, 16, AH), ...load2(P.D, 0, DL), ...load2(P.D, 16, DH),
    ...(withB ? [...load2(P.B, 0, BL), ...load2(P.B, 16, BH), ...get(P.b), ...get(cb), ...i32add, ...set(bp)] : []),
    ...get(P.a), ...get(cb), ...i32add, ...set(ap),
    ...get(P.out), ...get(cb), ...i32add, ...set(op),
    ...forLoop(r, get(P.rows), i32const(1), [
      ...pair(0, AL, BL, DL),
      ...pair(8, AH, BH, DH),
      ...get(ap), ...get(P.rowB), ...i32add, ...set(ap),
      ...(withB ? [...get(bp), ...get(P.rowB), ...i32add, ...set(bp)] : []),
      ...get(op), ...get(P.rowB), ...i32add, ...set(op),
    ]),
  ])];
  return {
    name: withB ? 'affine2' : clamp === 'relu' ? 'affineRelu' : clamp === 'relu6' ? 'affineRelu6' : 'affine',
    params: Array<number>(n).fill(I32),
    locals: [...Array<number>(6).fill(I32), ...Array<number>(8).fill(V128)],
    body,
  };
}

function moduleBytes(o: AssembleOptions = {}): Uint8Array {
  return assemble(
    [
      maskFn('relu6Grad'),
      maskFn('relu6GradY'),
      maskFn('reluGradY'),
      sumsFn(4),
      sumsFn(8),
      affineFn(false),
      affineFn(false, 'relu'),
      affineFn(false, 'relu6'),
      affineFn(true),
    ],
    o,
  );
}

/** The SIMD batch-norm / ReLU6-gradient loops on `backend`'s memory, or null where they cannot be used. */
export function simdBnKernels(backend: WasmBackendLike): BnSimd | null {
  return instantiateOnBackend('bn-kernels', backend, moduleBytes) as BnSimd | null;
}
