import { Arena } from './arena';

/** Buffers from this size up are blocks of the {@link Arena}; smaller ones are pooled by their exact size. */
export const MIN_ARENA_BYTES = 64 * 1024;

/** Size of a new arena chunk (a larger output gets a chunk of its own size). */
export const ARENA_CHUNK_BYTES = 256 * 1024 * 1024;

/**
 * Recycles the Float32Array buffers the native kernels allocate. Every training step allocates and frees
 * activations; a fresh ArrayBuffer costs page faults and GC work (measured ~4× the time of a ReLU6 over
 * 3 MB; a 71 MB batch-norm gradient ~220 ms into fresh pages, 20 ms into reused ones), a recycled one is warm.
 * Outputs from {@link MIN_ARENA_BYTES} up are blocks of an {@link Arena} (any size fits any free block: NetAug
 * changes the augmented model's widths, so activation sizes change every step); smaller ones are kept by
 * exact size. A buffer or block is recycled only when tfjs disposes the last tensor of its data *and* it never
 * escaped: values handed out by `readSync` / `read` are copies of arena blocks and escape small buffers, and
 * a cpu kernel's output that views a pooled input is copied (arena) or escapes it (small), so user-visible
 * arrays are never overwritten.
 */
export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  /** Buffers allocated here whose only owner is one tensor data entry. */
  private readonly owned = new WeakSet<ArrayBuffer>();
  private pooledBytes = 0;
  /**
   * The free buffers in release order, oldest first (a Set iterates in insertion order), for eviction. Free
   * buffers only: a buffer handed out, dropped or escaped must not stay reachable from here (it would be memory
   * no garbage collection can free).
   */
  private readonly releaseOrder = new Set<ArrayBuffer>();
  /** Statistics for nativeInfo(). */
  hits = 0;
  misses = 0;
  /** Free buffers dropped (to the GC) to stay within `maxBytes`, oldest released first. */
  evictions = 0;

  /** Large outputs; its chunks' bytes are capped at `maxBytes`. */
  readonly arena: Arena;

  constructor(
    readonly maxBytes: number,
    chunkBytes = ARENA_CHUNK_BYTES,
  ) {
    this.arena = new Arena(chunkBytes, maxBytes);
  }

  /** A Float32Array of `n` elements (contents undefined: callers write every element). */
  alloc(n: number): Float32Array {
    if (n <= 0) return new Float32Array(0);
    const bytes = n * 4;
    if (this.maxBytes > 0 && bytes >= MIN_ARENA_BYTES) return this.arena.alloc(n);
    let buf = this.maxBytes > 0 ? this.take(bytes) : undefined;
    if (buf != null) {
      this.hits++;
    } else {
      this.misses++;
      // allocUnsafeSlow: a dedicated ArrayBuffer of exactly `bytes`, without the zero fill
      buf = bytes >= 4096 ? (Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer) : new ArrayBuffer(bytes);
    }
    if (this.maxBytes > 0) this.owned.add(buf);
    return new Float32Array(buf, 0, n);
  }

  /** A free buffer of `bytes`, the one released last (warmest in the caches). */
  private take(bytes: number): ArrayBuffer | undefined {
    const list = this.free.get(bytes);
    const buf = list?.pop();
    if (buf == null) return undefined;
    if (list!.length === 0) this.free.delete(bytes);
    this.releaseOrder.delete(buf);
    this.pooledBytes -= bytes;
    return buf;
  }

  /** Whether `values` is a pooled buffer or arena block that nothing else references. */
  owns(values: unknown): values is Float32Array {
    return (
      values instanceof Float32Array &&
      (this.owned.has(values.buffer as ArrayBuffer) || this.arena.owns(values))
    );
  }

  /** Whether `values` views arena memory: it must be copied, not shared, to leave its tensor. */
  inArena(values: unknown): values is Float32Array {
    return ArrayBuffer.isView(values) && this.arena.contains(values);
  }

  /** `values` is (or may be) referenced outside its tensor: never recycle its buffer or block. */
  escape(values: unknown): void {
    if (values instanceof Float32Array && this.arena.owns(values)) this.arena.escape(values);
    else if (ArrayBuffer.isView(values)) this.owned.delete(values.buffer as ArrayBuffer);
  }

  /**
   * The tensor owning `values` was disposed: its arena block is free again; a small buffer is kept for a later
   * allocation of its size. Past `maxBytes`, the small buffers released longest ago are dropped first (sizes the
   * current configs no longer use).
   */
  release(values: Float32Array): void {
    if (this.arena.owns(values)) return this.arena.release(values);
    const buf = values.buffer as ArrayBuffer;
    if (!this.owned.has(buf)) return;
    this.owned.delete(buf);
    const bytes = buf.byteLength;
    if (bytes > this.maxBytes) return; // left to the GC
    let list = this.free.get(bytes);
    if (list == null) this.free.set(bytes, (list = []));
    list.push(buf);
    this.releaseOrder.add(buf);
    this.pooledBytes += bytes;
    while (this.pooledBytes > this.maxBytes) this.evictOldest();
  }

  private evictOldest(): void {
    const buf = this.releaseOrder.values().next().value as ArrayBuffer;
    this.releaseOrder.delete(buf);
    const list = this.free.get(buf.byteLength)!;
    list.splice(list.indexOf(buf), 1);
    if (list.length === 0) this.free.delete(buf.byteLength);
    this.pooledBytes -= buf.byteLength;
    this.evictions++; // left to the GC
  }

  /** Drops every pooled buffer and wholly free arena chunk (to the GC). */
  clear(): void {
    this.arena.clear();
    this.free.clear();
    this.releaseOrder.clear();
    this.pooledBytes = 0;
  }

  /** Free bytes held: small buffers and free arena blocks. */
  get bytes(): number {
    return this.pooledBytes + this.arena.freeBytes;
  }
}
