import type { WasmBackendLike } from '../wasm-backend';
import {
  assemble,
  f32x4add,
  f32x4mul,
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
} from './asm';

/**
 * A tiny hand-assembled WebAssembly SIMD module that imports the tfjs wasm backend's own memory, so it
 * works in place on tensors (no copies). Both functions handle one filter tap of a depthwise convolution
 * for one image, over a `rows × count` rectangle of output pixels, 4 channels at a time (f32x4); all
 * arguments are byte offsets / byte strides, `cBytes` = 4·C with C a multiple of 4:
 *
 * - `tapAcc(x, dy, acc, rows, count, xRowStride, dyRowStride, xStep, cBytes)` — weight gradient:
 *   `acc[c] += Σ_{r,i} x[r·xRowStride + i·xStep + c] · dy[r·dyRowStride + i·cBytes + c]`
 * - `tapScatter(dx, dy, w, rows, count, dxRowStride, dyRowStride, dxStep, cBytes)` — input gradient:
 *   `dx[r·dxRowStride + i·dxStep + c] += dy[r·dyRowStride + i·cBytes + c] · w[c]`
 */
function moduleBytes(o: AssembleOptions = {}): Uint8Array {
  const params = Array<number>(9).fill(I32);
  // params, then locals cb, r, i, xp, dp, xr, dr (i32) and v (v128)
  const [X, DY, ACC, ROWS, COUNT, XROW, DYROW, XSTEP, CB] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [cb, r, i, xp, dp, xr, dr, v] = [9, 10, 11, 12, 13, 14, 15, 16];
  const locals = [...Array<number>(7).fill(I32), V128];

  /** Loop nest shared by both functions; `inner` is the per-pixel step, `after` runs after each channel block. */
  const body = (inner: number[], after: number[]) =>
    // prettier-ignore
    forLoop(cb, get(CB), i32const(16), [ // for cb = 0; cb < cBytes; cb += 16
      ...get(ACC), ...get(cb), ...i32add, ...v128load(), ...set(v), // v = acc[cb] (or w[cb])
      ...get(X), ...get(cb), ...i32add, ...set(xr),
      ...get(DY), ...get(cb), ...i32add, ...set(dr),
      ...forLoop(r, get(ROWS), i32const(1), [
        ...get(xr), ...set(xp),
        ...get(dr), ...set(dp),
        ...forLoop(i, get(COUNT), i32const(1), [
          ...inner,
          ...get(xp), ...get(XSTEP), ...i32add, ...set(xp),
          ...get(dp), ...get(CB), ...i32add, ...set(dp),
        ]),
        ...get(xr), ...get(XROW), ...i32add, ...set(xr),
        ...get(dr), ...get(DYROW), ...i32add, ...set(dr),
      ]),
      ...after,
    ]);
  // v += x · dy ; after the block: acc = v
  const accBody = body(
    [...get(v), ...get(xp), ...v128load(), ...get(dp), ...v128load(), ...f32x4mul, ...f32x4add, ...set(v)],
    [...get(ACC), ...get(cb), ...i32add, ...get(v), ...v128store()],
  );
  // dx += dy · v (v = w block)
  // prettier-ignore
  const scatterBody = body(
    [...get(xp), ...get(xp), ...v128load(), ...get(dp), ...v128load(), ...get(v), ...f32x4mul, ...f32x4add, ...v128store()],
    [],
  );
  return assemble(
    [
      { name: 'tapAcc', params, locals, body: accBody },
      { name: 'tapScatter', params, locals, body: scatterBody },
    ],
    o,
  );
}

/** Signature of both SIMD functions (byte offsets and strides). */
export type TapFn = (
  x: number,
  dy: number,
  accOrW: number,
  rows: number,
  count: number,
  xRowStride: number,
  dyRowStride: number,
  xStep: number,
  cBytes: number,
) => void;

/** The module's functions. */
export interface TapKernels {
  tapAcc: TapFn;
  tapScatter: TapFn;
}

/**
 * The SIMD tap kernels bound to `backend`'s memory, or null where they cannot be used (no SIMD support,
 * memory not reachable, or shared memory of the threaded build). Compiled once per backend instance.
 */
export function simdTapKernels(backend: WasmBackendLike): TapKernels | null {
  const e = instantiateOnBackend('tap-kernels', backend, moduleBytes);
  return e == null ? null : { tapAcc: e.tapAcc as TapFn, tapScatter: e.tapScatter as TapFn };
}
