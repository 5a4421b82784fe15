/**
 * The output-buffer pool: the arena of large outputs (block layout, best fit, merging, the chunk cap), the small
 * buffers' eviction of those released longest ago, exact-size copies for values that leave the backend; the
 * primitive caches' counters.
 */
import * as tf from '@tensorflow/tfjs-core';
import { nativeInfo } from '../src';
import { Arena, BLOCK_ALIGN } from '../src/arena';
import { BufferPool, MIN_ARENA_BYTES } from '../src/pool';
import { bitEqual, randomData, setupNative, useBackend } from './helpers';

beforeAll(() => setupNative());

const KB = 1024;
const MB = 1024 * 1024;

/** A seeded integer generator: rand(n) in [0, n). */
function lcg(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s % n;
  };
}

describe('Arena', () => {
  test('blocks are carved in order, 64-byte aligned; released neighbours merge back into one free block', () => {
    const a = new Arena(MB, 4 * MB);
    const x = a.alloc(1000); // 4000 bytes → 4032
    const y = a.alloc(10); // 40 → 64
    const z = a.alloc(16); // 64
    expect([x.byteOffset, y.byteOffset, z.byteOffset]).toEqual([0, 4032, 4096]);
    expect([x.length, y.length, z.length]).toEqual([1000, 10, 16]);
    expect(y.buffer).toBe(x.buffer);
    expect(a.layout()).toEqual([
      { buffer: x.buffer, bytes: MB, used: 4160, free: [{ off: 4160, size: MB - 4160 }] },
    ]);
    a.release(y); // a hole between x and z
    expect(a.layout()[0].free).toEqual([
      { off: 4032, size: 64 },
      { off: 4160, size: MB - 4160 },
    ]);
    a.release(x); // merges with the hole after it
    expect(a.layout()[0].free).toEqual([
      { off: 0, size: 4096 },
      { off: 4160, size: MB - 4160 },
    ]);
    a.release(z); // merges with both sides
    expect(a.layout()).toEqual([{ buffer: x.buffer, bytes: MB, used: 0, free: [{ off: 0, size: MB }] }]);
    expect(a.freeBytes).toBe(MB);
    expect([a.hits, a.misses]).toEqual([2, 1]);
  });

  test('best fit: the smallest free block that holds the request; a release twice is ignored', () => {
    const a = new Arena(MB, 4 * MB);
    const [p, , q] = [a.alloc(3 * 16), a.alloc(16), a.alloc(5 * 16), a.alloc(16)]; // 192, 64, 320, 64 bytes
    a.release(q);
    a.release(p);
    a.release(p);
    const r = a.alloc(4 * 16); // 256 bytes: only q's 320-byte hole (and the tail) fit; q's is smaller
    expect(r.byteOffset).toBe(q.byteOffset);
    const s = a.alloc(3 * 16); // 192 bytes: p's hole exactly
    expect(s.byteOffset).toBe(p.byteOffset);
    expect(a.layout()[0].used).toBe(192 + 64 + 256 + 64);
  });

  test('a request larger than a chunk gets a chunk of its own; past maxBytes a wholly free chunk is dropped', () => {
    const a = new Arena(MB, 2 * MB);
    const small = a.alloc(1024);
    const big = a.alloc((3 * MB) / 4 + 1); // 3 MiB + 4 bytes → a 4 MiB chunk
    expect(big.buffer.byteLength).toBe(4 * MB);
    expect(a.capacity).toBe(5 * MB);
    a.release(big); // capacity 5 MiB > 2 MiB: dropped
    expect(a.capacity).toBe(MB);
    expect(a.evictions).toBe(1);
    a.release(small); // capacity 1 MiB ≤ 2 MiB: kept, warm
    expect(a.capacity).toBe(MB);
    expect(a.alloc(1024).buffer).toBe(small.buffer);
    expect(a.contains(small)).toBe(true);
    expect(a.contains(big)).toBe(false);
  });

  test('random churn: live blocks never overlap, and free plus live bytes tile every chunk exactly', () => {
    const a = new Arena(256 * KB, 1 * MB);
    const rand = lcg(12345);
    const live: Float32Array[] = [];
    for (let step = 0; step < 3000; step++) {
      if (live.length > 0 && rand(100) < 48) {
        const i = rand(live.length);
        const v = live[i];
        live.splice(i, 1);
        v.fill(NaN); // the arena never reads block contents
        a.release(v);
      } else {
        const n = 1 + rand(rand(10) === 0 ? 100_000 : 4000);
        const v = a.alloc(n);
        v.fill(step);
        live.push(v);
      }
      if (step % 100 !== 0) continue;
      for (const v of live) expect(v[0] === v[v.length - 1] && v[0] >= 0).toBe(true); // nobody wrote over it
      const layout = a.layout();
      let capacity = 0;
      for (const c of layout) {
        capacity += c.bytes;
        const blocks = [
          ...c.free.map((f) => ({ ...f, free: true })),
          ...live
            .filter((v) => v.buffer === c.buffer)
            .map((v) => ({
              off: v.byteOffset,
              size: Math.ceil(v.byteLength / BLOCK_ALIGN) * BLOCK_ALIGN,
              free: false,
            })),
        ].sort((p, q) => p.off - q.off);
        let end = 0;
        for (const [i, b] of blocks.entries()) {
          expect(b.off).toBe(end); // no gap, no overlap
          if (i > 0 && b.free) expect(blocks[i - 1].free).toBe(false); // free neighbours were merged
          end += b.size;
        }
        expect(end).toBe(c.bytes);
        expect(c.used).toBe(blocks.filter((b) => !b.free).reduce((s, b) => s + b.size, 0));
      }
      expect(live.every((v) => layout.some((c) => c.buffer === v.buffer))).toBe(true);
      const liveBytes = live.reduce((s, v) => s + Math.ceil(v.byteLength / BLOCK_ALIGN) * BLOCK_ALIGN, 0);
      expect(capacity).toBe(a.capacity);
      expect(a.freeBytes + liveBytes).toBe(a.capacity);
    }
    expect(a.hits).toBeGreaterThan(1000);
    expect(a.evictions).toBeGreaterThan(0);
  });

  test('NetAug-like steps (new widths every step, forward then backward lifetimes): after warm-up, no new chunks', () => {
    // per step: each layer's activation (kept for the backward pass) and a temporary; then, from the last layer
    // down, its gradient while the activation and the next layer's gradient are freed. Widths change every step.
    const a = new Arena(8 * MB, 1024 * MB);
    const rand = lcg(7);
    const base = [96, 144, 144, 192, 192, 384, 384, 576, 960].map((c) => c * 28 * 28 * 4); // elements per layer
    const widths = [1, 1.8, 2.6];
    const expands = [1, 1.6, 2.2, 2.8];
    let maxLive = 0;
    let allocs = 0;
    const missesAfter: number[] = [];
    for (let step = 0; step < 60; step++) {
      const w = widths[rand(3)];
      const sizes = base.map((n) => Math.round((n * w * expands[rand(4)]) / 4) * 4);
      let live = 0;
      const acts: Float32Array[] = [];
      for (const n of sizes) {
        acts.push(a.alloc(n));
        const t = a.alloc(n);
        live += 8 * n;
        maxLive = Math.max(maxLive, live);
        a.release(t);
        live -= 4 * n;
        allocs += 2;
      }
      let next: Float32Array | undefined;
      for (let l = sizes.length - 1; l >= 0; l--) {
        const g = a.alloc(sizes[l]);
        allocs++;
        a.release(acts[l]);
        if (next) a.release(next);
        next = g;
      }
      a.release(next!);
      missesAfter.push(a.misses);
    }
    expect(a.freeBytes).toBe(a.capacity); // everything released
    expect(allocs).toBe(60 * 27);
    // the chunks hold the largest step's live bytes with little waste, and stop growing after the first steps
    expect(a.capacity).toBeLessThanOrEqual(1.5 * maxLive + 8 * MB);
    expect(missesAfter[59] - missesAfter[19]).toBe(0);
  });
});

describe('BufferPool', () => {
  const K = 4096; // elements of one 16 KiB buffer (small buffers are pooled by exact size)

  test('outputs of 64 KiB and more are arena blocks; smaller ones are buffers of their own', () => {
    const p = new BufferPool(MB, MB);
    const big = p.alloc(MIN_ARENA_BYTES / 4);
    const small = p.alloc(MIN_ARENA_BYTES / 4 - 1);
    expect(p.inArena(big) && p.owns(big)).toBe(true);
    expect(p.inArena(small)).toBe(false);
    expect(small.buffer.byteLength).toBe(MIN_ARENA_BYTES - 4);
    p.release(big);
    expect(p.owns(big)).toBe(false);
    expect(p.alloc(100_000).byteOffset).toBe(big.byteOffset); // the freed block, larger now
  });

  test('past maxBytes the small buffer released longest ago goes first, even after it was reused', () => {
    const p = new BufferPool(3 * 4 * K);
    const A = p.alloc(K);
    const B = p.alloc(K);
    const C = p.alloc(K);
    const D = p.alloc(K);
    p.release(A);
    const A2 = p.alloc(K); // A again: its first release is stale now
    expect(A2.buffer).toBe(A.buffer);
    p.release(A2);
    p.release(B);
    p.release(C);
    expect(p.bytes).toBe(3 * 4 * K);
    p.release(D); // over the cap: A (released before B, C, D) is dropped
    expect(p.evictions).toBe(1);
    expect(p.bytes).toBe(3 * 4 * K);
    const got = new Set([p.alloc(K).buffer, p.alloc(K).buffer, p.alloc(K).buffer]);
    expect(got).toEqual(new Set([B.buffer, C.buffer, D.buffer]));
    expect(p.alloc(K).buffer).not.toBe(A.buffer); // a fresh one
  });

  test('escaped buffers and blocks are never handed out again', () => {
    const p = new BufferPool(MB, MB);
    const a = p.alloc(K);
    p.escape(a);
    p.release(a);
    expect(p.alloc(K).buffer).not.toBe(a.buffer);
    const b = p.alloc(MB / 8);
    p.escape(b);
    p.release(b);
    expect(p.alloc(MB / 8).byteOffset).not.toBe(b.byteOffset);
  });

  test('holds no small buffer it gave away or dropped (they stay collectable): its eviction order lists free buffers only', () => {
    const p = new BufferPool(2 * 4 * K);
    const internals = p as unknown as { free: Map<number, ArrayBuffer[]>; releaseOrder: Set<ArrayBuffer> };
    const held = (): ArrayBuffer[] => [...internals.releaseOrder];
    const free = (): ArrayBuffer[] => [...internals.free.values()].flat();
    // a NetAug-like churn: sizes change, buffers are reused, some escape, the cap forces evictions
    for (let round = 0; round < 50; round++) {
      const arrays = [1, 2, 3].map((m) => p.alloc(((round % 3) + m) * 1024));
      if (round % 4 === 0) p.escape(arrays[1]);
      for (const a of arrays) p.release(a);
      expect(new Set(held())).toEqual(new Set(free()));
      expect(p.bytes).toBe(free().reduce((s, b) => s + b.byteLength, 0));
      expect(p.bytes).toBeLessThanOrEqual(2 * 4 * K);
    }
    expect(p.evictions).toBeGreaterThan(0);
    expect(p.hits).toBeGreaterThan(0);
  });
});

describe('on the native backend', () => {
  test('a kernel writing into a recycled arena block gives the right values; dataSync() is an exact copy', async () => {
    await useBackend('native');
    const x1 = tf.tensor(randomData(205 * 128, 61), [205, 128]);
    const x2 = tf.tensor(randomData(200 * 128, 62), [200, 128]);
    tf.relu6(x1).dispose(); // frees a 104,960-byte block
    const hits = nativeInfo().pool.arena.hits;
    const y = tf.relu6(x2); // 102,400 bytes: fits the freed block
    expect(nativeInfo().pool.arena.hits).toBe(hits + 1);
    const v = y.dataSync() as Float32Array;
    expect(v.length).toBe(200 * 128);
    expect(v.buffer.byteLength).toBe(200 * 128 * 4); // a copy, not the arena's chunk
    const ref = (x2.dataSync() as Float32Array).map((t) => Math.min(Math.max(t, 0), 6));
    expect(bitEqual(v, ref)).toBe(true);
    const held = Float32Array.from(v);
    y.dispose();
    for (let i = 0; i < 3; i++) tf.relu6(tf.neg(x2)).dispose(); // reuses y's block
    expect(bitEqual(v, held)).toBe(true);
    tf.dispose([x1, x2]);
  });

  test('a contiguous slice (a view in the cpu kernel) of an arena tensor is a copy: reusing the block leaves it intact', async () => {
    await useBackend('native');
    const x = tf.tensor(randomData(300 * 128, 65), [300, 128]);
    const y = tf.relu6(x); // an arena block
    const s = tf.slice(y, [100, 0], [150, 128]); // contiguous rows: tfjs-backend-cpu returns a subarray
    const want = (x.dataSync() as Float32Array)
      .slice(100 * 128, 250 * 128)
      .map((t) => Math.min(Math.max(t, 0), 6));
    y.dispose(); // its block is free again
    const hits = nativeInfo().pool.arena.hits;
    const z = tf.relu6(tf.neg(x)); // the same size: takes that block
    expect(nativeInfo().pool.arena.hits).toBe(hits + 1);
    expect(bitEqual(s.dataSync() as Float32Array, want)).toBe(true);
    tf.dispose([x, s, z]);
  });

  test('convolution primitives: the first call of a geometry creates, the next finds it', async () => {
    await useBackend('native');
    const x = tf.tensor(randomData(1 * 9 * 11 * 3, 63), [1, 9, 11, 3]);
    const w = tf.tensor(randomData(3 * 3 * 3 * 7, 64), [3, 3, 3, 7]);
    const before = nativeInfo().convCache;
    tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same').dispose();
    const mid = nativeInfo().convCache;
    expect(mid.misses).toBe(before.misses + 1);
    expect(mid.createMs).toBeGreaterThan(before.createMs);
    tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same').dispose();
    const after = nativeInfo().convCache;
    expect(after.misses).toBe(mid.misses);
    expect(after.hits).toBe(mid.hits + 1);
    tf.dispose([x, w]);
  });
});
