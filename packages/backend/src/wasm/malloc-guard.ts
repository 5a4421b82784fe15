import { NetAugError } from '@netaug/core';
import type { WasmBackendLike } from './wasm-backend';

type Malloc = (bytes: number) => number;
interface EmscriptenHeap {
  _malloc: Malloc;
  _free(ptr: number): void;
  HEAPU8: Uint8Array;
}

const guarded = new WeakSet<object>();

/**
 * Makes the wasm backend's `_malloc` throw instead of returning 0.
 *
 * tfjs-backend-wasm's heap is a 32-bit `WebAssembly.Memory` (at most 4 GiB). When it cannot grow any more,
 * emscripten's `malloc` returns 0 and tfjs-backend-wasm 4.22 does not check it: the tensor is registered at
 * address 0 and the kernel writes its output over the module's static data, which surfaces later as
 * `RuntimeError: memory access out of bounds` (or `Aborted()`) in an unrelated kernel. With the guard the
 * allocation fails where it happens, as a `NetAugError` saying how much was requested and how big the
 * heap is (also for requests of 4 GiB or more, which would otherwise wrap around to a small size). Allocations made inside the C++ code (XNNPACK) are not covered. Idempotent.
 */
export function guardWasmMalloc(backend: WasmBackendLike): void {
  const key = backend as unknown as object;
  if (guarded.has(key)) return;
  const wasm = backend.wasm as unknown as EmscriptenHeap;
  if (typeof wasm._malloc !== 'function' || typeof wasm._free !== 'function') return;
  // Emscripten's `_malloc` export is a thunk that replaces itself on its first call: resolve it first.
  wasm._free(wasm._malloc(16));
  const raw = wasm._malloc;
  const safeMalloc: Malloc = (bytes) => {
    // ≥ 4 GiB would wrap around in the 32-bit size_t (and "succeed" with a small block)
    const ptr = bytes > 0xffffffff ? 0 : raw(bytes);
    if (ptr === 0 && bytes > 0) {
      const heap = wasm.HEAPU8.length;
      throw new NetAugError(
        'INVALID_CONFIG',
        `The wasm backend is out of memory: allocating ${mib(bytes)} failed with a ${mib(heap)} heap ` +
          '(a 32-bit WebAssembly memory grows to 4 GiB at most)',
        {
          hint: 'lower the batch size or the input resolution, or use the tensorflow backend',
          details: { kind: 'OUT_OF_MEMORY', requestedBytes: bytes, heapBytes: heap },
        },
      );
    }
    return ptr;
  };
  wasm._malloc = safeMalloc;
  guarded.add(key);
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * Throws the out-of-memory `NetAugError` unless `bytes` can be allocated right now (allocates and frees a
 * block). For C++ code that allocates internally: when XNNPACK cannot allocate the packed weights of a
 * matMul, tfjs-backend-wasm only logs "xnn_create_fully_connected_nc_f32 … status 6" and returns an
 * output it never wrote.
 */
export function ensureHeadroom(backend: WasmBackendLike, bytes: number): void {
  guardWasmMalloc(backend);
  const wasm = backend.wasm as unknown as EmscriptenHeap;
  wasm._free(wasm._malloc(bytes));
}
