/**
 * The output-buffer pool: size classes, eviction of the buffers released longest ago, exact-size arrays for
 * values that leave the backend; the primitive caches' counters.
 */
import * as tf from '@tensorflow/tfjs-core';
import { nativeInfo } from '../src';
import { BufferPool, MIN_CLASSED_BYTES, sizeClass } from '../src/pool';
import { bitEqual, randomData, setupNative, useBackend } from './helpers';

beforeAll(() => setupNative());

describe('sizeClass', () => {
  test('exact below 64 KiB, else one of 8 sizes per power of two', () => {
    expect(sizeClass(4)).toBe(4);
    expect(sizeClass(MIN_CLASSED_BYTES - 4)).toBe(MIN_CLASSED_BYTES - 4);
    expect(sizeClass(65536)).toBe(65536);
    expect(sizeClass(65540)).toBe(65536 + 8192);
    expect(sizeClass(102400)).toBe(13 * 8192); // 2^16 ≤ 102400 < 2^17: steps of 2^13
    expect(sizeClass(104960)).toBe(13 * 8192);
    expect(sizeClass(2 ** 26 + 1)).toBe(2 ** 26 + 2 ** 23);
  });

  test('never smaller, at most 12.5 % larger, monotonic', () => {
    let prev = 0;
    for (let b = MIN_CLASSED_BYTES; b < 2 ** 28; b = Math.ceil(b * 1.013) + 4) {
      const c = sizeClass(b);
      expect(c).toBeGreaterThanOrEqual(b);
      expect(c / b).toBeLessThanOrEqual(1.125);
      expect(c).toBeGreaterThanOrEqual(prev);
      prev = c;
    }
  });
});

describe('BufferPool', () => {
  const K = 65536 / 4; // elements of one 64 KiB class buffer

  test('arrays of nearby sizes share a buffer; each array has its own length', () => {
    const p = new BufferPool(1 << 20);
    const a = p.alloc(25_600); // 102400 bytes
    p.release(a);
    const b = p.alloc(26_240); // 104960 bytes, the same class
    expect(b.buffer).toBe(a.buffer);
    expect(b.length).toBe(26_240);
    expect(b.buffer.byteLength).toBe(13 * 8192);
    expect(p.hits).toBe(1);
    expect(p.misses).toBe(1);
  });

  test('past maxBytes the buffer released longest ago goes first, even after it was reused', () => {
    const p = new BufferPool(3 * 65536);
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
    expect(p.bytes).toBe(3 * 65536);
    p.release(D); // over the cap: A (released before B, C, D) is dropped
    expect(p.evictions).toBe(1);
    expect(p.bytes).toBe(3 * 65536);
    const got = new Set([p.alloc(K).buffer, p.alloc(K).buffer, p.alloc(K).buffer]);
    expect(got).toEqual(new Set([B.buffer, C.buffer, D.buffer]));
    expect(p.alloc(K).buffer).not.toBe(A.buffer); // a fresh one
  });

  test('escaped buffers are never handed out again; a buffer larger than the cap is not kept', () => {
    const p = new BufferPool(65536);
    const a = p.alloc(K);
    p.escape(a);
    p.release(a);
    expect(p.alloc(K).buffer).not.toBe(a.buffer);
    const big = p.alloc(2 * K);
    p.release(big);
    expect(p.bytes).toBe(0);
  });

  test('holds no buffer it gave away or dropped (they stay collectable): its eviction order lists free buffers only', () => {
    const p = new BufferPool(4 * 65536);
    const internals = p as unknown as { free: Map<number, ArrayBuffer[]>; releaseOrder: Set<ArrayBuffer> };
    const held = (): ArrayBuffer[] => [...internals.releaseOrder];
    const free = (): ArrayBuffer[] => [...internals.free.values()].flat();
    // a NetAug-like churn: sizes change, buffers are reused, some escape, the cap forces evictions
    for (let round = 0; round < 50; round++) {
      const arrays = [1, 2, 3, 5].map((m) => p.alloc(((round % 3) + m) * 16384));
      if (round % 4 === 0) p.escape(arrays[1]);
      for (const a of arrays) p.release(a);
      expect(new Set(held())).toEqual(new Set(free()));
      expect(p.bytes).toBe(free().reduce((s, b) => s + b.byteLength, 0));
      expect(p.bytes).toBeLessThanOrEqual(4 * 65536);
    }
    expect(p.evictions).toBeGreaterThan(0);
    expect(p.hits).toBeGreaterThan(0);
  });
});

describe('on the native backend', () => {
  test('a kernel writing into a larger recycled buffer gives the right values; dataSync() is an exact copy', async () => {
    await useBackend('native');
    const x1 = tf.tensor(randomData(200 * 128, 61), [200, 128]);
    const x2 = tf.tensor(randomData(205 * 128, 62), [205, 128]);
    tf.relu6(x1).dispose(); // leaves a 13 × 8 KiB buffer in the pool
    const hits = nativeInfo().pool.hits;
    const y = tf.relu6(x2);
    expect(nativeInfo().pool.hits).toBe(hits + 1);
    const v = y.dataSync() as Float32Array;
    expect(v.length).toBe(205 * 128);
    expect(v.buffer.byteLength).toBe(205 * 128 * 4); // not the pooled buffer's 106496 bytes
    const ref = (x2.dataSync() as Float32Array).map((t) => Math.min(Math.max(t, 0), 6));
    expect(bitEqual(v, ref)).toBe(true);
    const held = Float32Array.from(v);
    y.dispose();
    for (let i = 0; i < 3; i++) tf.relu6(tf.neg(x2)).dispose(); // reuses y's buffer
    expect(bitEqual(v, held)).toBe(true);
    tf.dispose([x1, x2]);
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
