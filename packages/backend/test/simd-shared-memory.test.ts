/**
 * The project's SIMD modules on the shared memory of tfjs-wasm's threaded build (browsers with cross-origin
 * isolation): they import shared memory there, link, and compute what they compute on unshared memory. Node runs
 * tfjs-wasm unthreaded, so the memories here are made by hand and handed over as a backend's.
 */
import { assemble } from '../src/wasm/simd/asm';
import { simdAtbKernels } from '../src/wasm/simd/atb-kernels';
import { simdBnKernels } from '../src/wasm/simd/bn-kernels';
import { simdTapKernels } from '../src/wasm/simd/tap-kernels';
import type { WasmBackendLike } from '../src/wasm/wasm-backend';

const fakeBackend = (memory: WebAssembly.Memory) =>
  ({ wasm: { asm: { memory } } }) as unknown as WasmBackendLike;
const shared = () => new WebAssembly.Memory({ initial: 2, maximum: 64, shared: true });
const unshared = () => new WebAssembly.Memory({ initial: 2, maximum: 64 });

test('the memory import: unshared without a maximum, shared with flags 0x03 and maximum 65536 pages', () => {
  const imp = (b: Uint8Array) => {
    // "env" "mem" then the import kind (2 = memory) and its limits
    const at = Buffer.from(b).indexOf(Buffer.from([3, 0x6d, 0x65, 0x6d, 0x02]));
    return Array.from(b.slice(at + 5, at + 10));
  };
  expect(imp(assemble([])).slice(0, 2)).toEqual([0x00, 0x01]);
  // 65536 as LEB128: 0x80 0x80 0x04
  expect(imp(assemble([], { sharedMemory: true }))).toEqual([0x03, 0x01, 0x80, 0x80, 0x04]);
  expect(WebAssembly.validate(assemble([], { sharedMemory: true }))).toBe(true);
});

test('every SIMD module links to shared memory (and to unshared memory)', () => {
  expect(shared().buffer).toBeInstanceOf(SharedArrayBuffer);
  expect(unshared().buffer).not.toBeInstanceOf(SharedArrayBuffer);
  for (const mem of [shared(), unshared()]) {
    expect(simdBnKernels(fakeBackend(mem))).not.toBeNull();
    expect(simdAtbKernels(fakeBackend(mem))).not.toBeNull();
    expect(simdTapKernels(fakeBackend(mem))).not.toBeNull();
  }
});

test('on shared memory the ReLU6 gradient mask gives the hand-computed bits, as on unshared memory', () => {
  // dx = dy · [0 < x ≤ 6]: x at the edges (0, 6, just above 6, −0, NaN, ∞) and inside
  const x = [0, 6, 6.0000005, -0, NaN, Infinity, 3, -2];
  const dy = [1, 2, 3, 4, 5, 6, 7, 8];
  const want = [0, 2, 0, 0, 0, 0, 7, 0];
  for (const mem of [shared(), unshared()]) {
    const k = simdBnKernels(fakeBackend(mem))!;
    const f = new Float32Array(mem.buffer);
    const [X, DY, DX] = [0, 64, 128];
    f.set(x, X / 4);
    f.set(dy, DY / 4);
    f.fill(-1, DX / 4, DX / 4 + 8);
    k.relu6Grad(DX, DY, X, 32);
    expect(Array.from(f.slice(DX / 4, DX / 4 + 8))).toEqual(want);
    // +0.0, never −0.0, where the mask is off (dy · +0.0 with dy > 0)
    expect(Object.is(f[DX / 4], 0)).toBe(true);
  }
});
