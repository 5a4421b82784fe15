/** Buffers from this size up come in size classes; smaller ones are pooled by their exact size. */
export const MIN_CLASSED_BYTES = 64 * 1024;

/**
 * The byte size of the buffer that holds `bytes`: exact below {@link MIN_CLASSED_BYTES}, else rounded up to one
 * of 8 classes per power of two (at most 12.5 % unused), so arrays of nearby sizes share buffers.
 */
export function sizeClass(bytes: number): number {
  if (bytes < MIN_CLASSED_BYTES) return bytes;
  const step = 2 ** (Math.floor(Math.log2(bytes)) - 3);
  return Math.ceil(bytes / step) * step;
}

/**
 * Recycles the Float32Array buffers the native kernels allocate. Every training step allocates and frees
 * activations; a fresh ArrayBuffer costs page faults and GC work (measured ~4× the time of a ReLU6 over
 * 3 MB; once, on a busy machine, a 47 MB batch-norm output took 316 ms on fresh pages, 13 ms on warm ones),
 * a recycled one is warm. NetAug changes the augmented model's widths every step, so activation sizes change
 * too: buffers come in size classes ({@link sizeClass}) and an array is a view of the first `n` elements of
 * its class's buffer. A buffer returns to the pool only when tfjs disposes the last tensor of its data *and*
 * it never escaped: values handed out by `readSync` / `read` (`dataSync()`,
 * `data()`, moving tensors to another backend) and buffers a cpu kernel returned a view of (e.g. a
 * contiguous `Slice`) are never reused, so user-visible arrays are never overwritten.
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

  constructor(readonly maxBytes: number) {}

  /** A Float32Array of `n` elements (contents undefined: callers write every element). */
  alloc(n: number): Float32Array {
    if (n <= 0) return new Float32Array(0);
    const bytes = this.maxBytes > 0 ? sizeClass(n * 4) : n * 4;
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

  /** A free buffer of class `bytes`, the one released last (warmest in the caches). */
  private take(bytes: number): ArrayBuffer | undefined {
    const list = this.free.get(bytes);
    const buf = list?.pop();
    if (buf == null) return undefined;
    if (list!.length === 0) this.free.delete(bytes);
    this.releaseOrder.delete(buf);
    this.pooledBytes -= bytes;
    return buf;
  }

  /** Whether `values` is a view of a pooled buffer that nothing else references. */
  owns(values: unknown): values is Float32Array {
    return values instanceof Float32Array && this.owned.has(values.buffer as ArrayBuffer);
  }

  /** `values` is (or may be) referenced outside its tensor: never recycle its buffer. */
  escape(values: unknown): void {
    if (ArrayBuffer.isView(values)) this.owned.delete(values.buffer as ArrayBuffer);
  }

  /**
   * The tensor owning `values` was disposed: keep its buffer for a later allocation of its size class. Past
   * `maxBytes`, the buffers released longest ago are dropped first (sizes the current configs no longer use).
   */
  release(values: Float32Array): void {
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

  /** Drops every pooled buffer (to the GC). */
  clear(): void {
    this.free.clear();
    this.releaseOrder.clear();
    this.pooledBytes = 0;
  }

  get bytes(): number {
    return this.pooledBytes;
  }
}
