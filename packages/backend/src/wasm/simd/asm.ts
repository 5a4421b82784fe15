import type { WasmBackendLike } from '../wasm-backend';

/**
 * A minimal WebAssembly binary writer for the project's small SIMD modules: every module imports the tfjs
 * wasm backend's memory as `env.mem` and exports functions without results. No toolchain is needed at build
 * or run time (the modules are a few hundred bytes, assembled when first used).
 */

/** Value types. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;

/** Unsigned LEB128. */
export function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
export function sleb(n: number): number[] {
  const out: number[] = [];
  n |= 0;
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

// ---- instructions (each returns its bytes) ----
export const get = (l: number) => [0x20, ...leb(l)];
export const set = (l: number) => [0x21, ...leb(l)];
export const tee = (l: number) => [0x22, ...leb(l)];
export const i32const = (k: number) => [0x41, ...sleb(k)];
export const f32const = (k: number) => [0x43, ...new Uint8Array(new Float32Array([k]).buffer)];
export const f64const = (k: number) => [0x44, ...new Uint8Array(new Float64Array([k]).buffer)];
export const i32add = [0x6a];
export const i32mul = [0x6c];
export const i32geU = [0x4f];
export const block = [0x02, 0x40];
export const loop = [0x03, 0x40];
export const end = [0x0b];
export const br = (depth: number) => [0x0c, depth];
export const brIf = (depth: number) => [0x0d, depth];

/** A SIMD (0xfd-prefixed) instruction without immediates. */
export const simd = (opcode: number) => [0xfd, ...leb(opcode)];
/** `v128.load` (align 2^2: tensors are 4-byte aligned). */
export const v128load = (offset = 0) => [0xfd, 0x00, 0x02, ...leb(offset)];
export const v128store = (offset = 0) => [0xfd, 0x0b, 0x02, ...leb(offset)];
/** `f32.load` (align 2^2). */
export const f32load = (offset = 0) => [0x2a, 0x02, ...leb(offset)];
/** Loads 8 bytes into lane 0 of an i64x2 (lane 1 = 0): two floats for `f64x2.promote_low_f32x4`. */
export const v128load64zero = (offset = 0) => [0xfd, 0x5d, 0x02, ...leb(offset)];
/** Stores 64-bit lane 0: the two floats of `f32x4.demote_f64x2_zero`. */
export const v128store64lane0 = (offset = 0) => [0xfd, 0x5b, 0x02, ...leb(offset), 0x00];

export const f32x4splat = simd(0x13);
export const f64x2splat = simd(0x14);
export const f32x4lt = simd(0x43);
export const f32x4gt = simd(0x44);
export const f32x4le = simd(0x45);
export const v128and = simd(0x4e);
export const f32x4demote = simd(0x5e);
export const f64x2promoteLow = simd(0x5f);
export const f32x4add = simd(0xe4);
export const f32x4mul = simd(0xe6);
export const f32x4pmin = simd(0xea);
export const f32x4pmax = simd(0xeb);
export const f64x2add = simd(0xf0);
export const f64x2sub = simd(0xf1);
export const f64x2mul = simd(0xf2);

/**
 * `for (i = 0; i < limit; i += step) body` over an i32 local; `limit` and `step` are instruction sequences
 * that push an i32 (e.g. `get(n)`, `i32const(16)`).
 */
export function forLoop(i: number, limit: number[], step: number[], body: number[]): number[] {
  // prettier-ignore
  return [
    ...i32const(0), ...set(i),
    ...block, ...loop,
    ...get(i), ...limit, ...i32geU, ...brIf(1),
    ...body,
    ...get(i), ...step, ...i32add, ...set(i),
    ...br(0), ...end, ...end,
  ];
}

/** One exported function: parameter types, local types (after the parameters), body (without the final `end`). */
export interface FuncDef {
  name: string;
  params: number[];
  locals: number[];
  body: number[];
}

const section = (id: number, content: number[]) => [id, ...leb(content.length), ...content];
const str = (s: string) => [...leb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const vec = (items: number[][]) => [...leb(items.length), ...items.flat()];

/** Options of {@link assemble}. */
export interface AssembleOptions {
  /**
   * Import the memory as shared (what the threaded tfjs-wasm build has: a SharedArrayBuffer, in browsers with
   * cross-origin isolation); a module importing unshared memory cannot be linked to it. Default false.
   */
  sharedMemory?: boolean;
}

/** Memory limits of the import: min 1 page; shared memory must declare a maximum (65536 pages: any memory fits). */
const memoryLimits = (shared: boolean) => (shared ? [0x03, 0x01, ...leb(65536)] : [0x00, 0x01]);

/** The module: imports `env.mem` (memory, min 1 page), one type and one export per function. */
export function assemble(funcs: FuncDef[], o: AssembleOptions = {}): Uint8Array {
  const types = funcs.map((f) => [0x60, ...leb(f.params.length), ...f.params, 0x00]);
  const bodies = funcs.map((f) => {
    const locals = f.locals.map((t) => [0x01, t]); // one entry per local (small modules: no run-length grouping)
    const code = [...vec(locals), ...f.body, ...end];
    return [...leb(code.length), ...code];
  });
  // prettier-ignore
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
    ...section(1, vec(types)),
    ...section(2, vec([[...str('env'), ...str('mem'), 0x02, ...memoryLimits(o.sharedMemory ?? false)]])),
    ...section(3, vec(funcs.map((_, k) => leb(k)))),
    ...section(7, vec(funcs.map((f, k) => [...str(f.name), 0x00, ...leb(k)]))),
    ...section(10, vec(bodies)),
  ]);
}

/** The parts of the WebAssembly JS API used here (the project's TS lib has no DOM/WebAssembly types). */
interface WebAssemblyApi {
  Memory: abstract new (...args: never[]) => { buffer: ArrayBufferLike };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}

const instances = new Map<string, WeakMap<object, Record<string, unknown> | null>>();

/**
 * The exports of the module `bytes()` instantiated on `backend`'s memory, or null where it cannot be used (no
 * SIMD support, or memory not reachable). On the shared memory of the threaded build (browsers with cross-origin
 * isolation) the module imports shared memory and runs on the calling thread while tfjs' own kernels use the
 * pool's threads; the two never run at the same time (a kernel returns before the next starts). Compiled once per
 * backend instance and `name`.
 */
export function instantiateOnBackend(
  name: string,
  backend: WasmBackendLike,
  bytes: (o: AssembleOptions) => Uint8Array,
): Record<string, unknown> | null {
  const key = backend as unknown as object;
  let perBackend = instances.get(name);
  if (perBackend == null) instances.set(name, (perBackend = new WeakMap()));
  if (perBackend.has(key)) return perBackend.get(key) ?? null;
  let out: Record<string, unknown> | null = null;
  try {
    const wa = (globalThis as unknown as { WebAssembly?: WebAssemblyApi }).WebAssembly;
    // the unthreaded build exports its memory; the threaded one creates it in JS (shared) and keeps it as wasmMemory
    const w = backend.wasm as unknown as { asm?: { memory?: unknown }; wasmMemory?: unknown };
    const memory = w.asm?.memory ?? w.wasmMemory;
    const shared =
      wa != null &&
      memory instanceof wa.Memory &&
      typeof SharedArrayBuffer !== 'undefined' &&
      memory.buffer instanceof SharedArrayBuffer;
    const b = bytes({ sharedMemory: shared });
    if (wa != null && memory instanceof wa.Memory && wa.validate(b)) {
      out = new wa.Instance(new wa.Module(b), { env: { mem: memory } }).exports;
    }
  } catch {
    out = null;
  }
  perBackend.set(key, out);
  return out;
}
