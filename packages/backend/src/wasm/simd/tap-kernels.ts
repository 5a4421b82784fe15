import type { WasmBackendLike } from '../wasm-backend';

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
function moduleBytes(): Uint8Array {
  const I32 = 0x7f;
  const V128 = 0x7b;
  const nParams = 9;
  // params, then locals cb, r, i, xp, dp, xr, dr (i32) and v (v128)
  const [X, DY, ACC, ROWS, COUNT, XROW, DYROW, XSTEP, CB] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [cb, r, i, xp, dp, xr, dr, v] = [9, 10, 11, 12, 13, 14, 15, 16];
  const get = (l: number) => [0x20, l];
  const set = (l: number) => [0x21, l];
  const add = 0x6a;
  const geU = 0x4f;
  const mem = [0x02, 0x00]; // memarg: align 2^2, offset 0
  const v128load = [0xfd, 0x00, ...mem];
  const v128store = [0xfd, 0x0b, ...mem];
  const f32x4add = [0xfd, 0xe4, 0x01];
  const f32x4mul = [0xfd, 0xe6, 0x01];
  const block = [0x02, 0x40];
  const loop = [0x03, 0x40];
  const end = 0x0b;
  const brIf = (d: number) => [0x0d, d];
  const br = (d: number) => [0x0c, d];
  const i32const = (k: number) => [0x41, k];

  /** Loop nest shared by both functions; `inner` is the per-pixel step, `after` runs after each channel block. */
  const body = (inner: number[], after: number[]) => {
    // prettier-ignore
    const code = [
      ...i32const(0), ...set(cb),
      ...block, ...loop, // for cb = 0; cb < cBytes; cb += 16
      ...get(cb), ...get(CB), geU, ...brIf(1),
      ...get(ACC), ...get(cb), add, ...v128load, ...set(v), // v = acc[cb] (or w[cb])
      ...get(X), ...get(cb), add, ...set(xr),
      ...get(DY), ...get(cb), add, ...set(dr),
      ...i32const(0), ...set(r),
      ...block, ...loop, // for r = 0; r < rows
      ...get(r), ...get(ROWS), geU, ...brIf(1),
      ...get(xr), ...set(xp),
      ...get(dr), ...set(dp),
      ...i32const(0), ...set(i),
      ...block, ...loop, // for i = 0; i < count
      ...get(i), ...get(COUNT), geU, ...brIf(1),
      ...inner,
      ...get(xp), ...get(XSTEP), add, ...set(xp),
      ...get(dp), ...get(CB), add, ...set(dp),
      ...get(i), ...i32const(1), add, ...set(i),
      ...br(0), end, end,
      ...get(xr), ...get(XROW), add, ...set(xr),
      ...get(dr), ...get(DYROW), add, ...set(dr),
      ...get(r), ...i32const(1), add, ...set(r),
      ...br(0), end, end,
      ...after,
      ...get(cb), ...i32const(16), add, ...set(cb),
      ...br(0), end, end,
      end,
    ];
    const full = [0x02, 0x07, I32, 0x01, V128, ...code];
    return [...leb(full.length), ...full];
  };
  // v += x · dy ; after the block: acc = v
  const accBody = body(
    [...get(v), ...get(xp), ...v128load, ...get(dp), ...v128load, ...f32x4mul, ...f32x4add, ...set(v)],
    [...get(ACC), ...get(cb), add, ...get(v), ...v128store],
  );
  // dx += dy · v (v = w block)
  const scatterBody = body(
    [
      ...get(xp),
      ...get(xp),
      ...v128load,
      ...get(dp),
      ...v128load,
      ...get(v),
      ...f32x4mul,
      ...f32x4add,
      ...v128store,
    ],
    [],
  );
  const section = (id: number, content: number[]) => [id, ...leb(content.length), ...content];
  const str = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
  // prettier-ignore
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
    ...section(1, [0x01, 0x60, nParams, ...Array(nParams).fill(I32), 0x00]), // type: (i32 × 9) → ()
    ...section(2, [0x01, ...str('env'), ...str('mem'), 0x02, 0x00, 0x01]), // import env.mem: memory, min 1 page
    ...section(3, [0x02, 0x00, 0x00]), // two functions of type 0
    ...section(7, [0x02, ...str('tapAcc'), 0x00, 0x00, ...str('tapScatter'), 0x00, 0x01]),
    ...section(10, [0x02, ...accBody, ...scatterBody]),
  ]);
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
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

/** The parts of the WebAssembly JS API used here (the project's TS lib has no DOM/WebAssembly types). */
interface WebAssemblyApi {
  Memory: abstract new (...args: never[]) => { buffer: ArrayBufferLike };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}

/** The module's functions. */
export interface TapKernels {
  tapAcc: TapFn;
  tapScatter: TapFn;
}

const instances = new WeakMap<object, TapKernels | null>();

/**
 * The SIMD tap kernels bound to `backend`'s memory, or null where they cannot be used (no SIMD support,
 * memory not reachable, or shared memory of the threaded build). Compiled once per backend instance.
 */
export function simdTapKernels(backend: WasmBackendLike): TapKernels | null {
  const key = backend as unknown as object;
  if (instances.has(key)) return instances.get(key) ?? null;
  let fn: TapKernels | null = null;
  try {
    const wa = (globalThis as unknown as { WebAssembly?: WebAssemblyApi }).WebAssembly;
    const memory = (backend.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
    const bytes = moduleBytes();
    if (
      wa != null &&
      memory instanceof wa.Memory &&
      !(typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer) &&
      wa.validate(bytes)
    ) {
      const instance = new wa.Instance(new wa.Module(bytes), { env: { mem: memory } });
      fn = { tapAcc: instance.exports.tapAcc as TapFn, tapScatter: instance.exports.tapScatter as TapFn };
    }
  } catch {
    fn = null;
  }
  instances.set(key, fn);
  return fn;
}
