/**
 * Recycles the Float32Array buffers the native kernels allocate. Every training step allocates and frees
 * the same activation sizes; a fresh ArrayBuffer costs page faults and GC work (measured ~4× the time of a
 * ReLU6 over 3 MB), a recycled one is warm. A buffer returns to the pool only when tfjs disposes the last
 * tensor of its data *and* it never escaped: values handed out by `readSync` / `read` (`dataSync()`,
 * `data()`, moving tensors to another backend) and buffers a cpu kernel returned a view of (e.g. a
 * contiguous `Slice`) are never reused, so user-visible arrays are never overwritten.
 */
export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  /** Buffers allocated here whose only owner is one tensor data entry. */
  private readonly owned = new WeakSet<ArrayBuffer>();
  private pooledBytes = 0;
  /** Statistics for nativeInfo(). */
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes: number) {}

  /** A Float32Array of `n` elements (contents undefined: callers write every element). */
  alloc(n: number): Float32Array {
    if (n <= 0) return new Float32Array(0);
    const bytes = n * 4;
    let buf = this.maxBytes > 0 ? this.free.get(bytes)?.pop() : undefined;
    if (buf != null) {
      this.pooledBytes -= bytes;
      this.hits++;
    } else {
      this.misses++;
      // allocUnsafeSlow: a dedicated ArrayBuffer of exactly `bytes`, without the zero fill
      buf = bytes >= 4096 ? (Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer) : new ArrayBuffer(bytes);
    }
    if (this.maxBytes > 0) this.owned.add(buf);
    return new Float32Array(buf, 0, n);
  }

  /** Whether `values` is a pooled buffer that nothing else references. */
  owns(values: unknown): values is Float32Array {
    return values instanceof Float32Array && this.owned.has(values.buffer as ArrayBuffer);
  }

  /** `values` is (or may be) referenced outside its tensor: never recycle its buffer. */
  escape(values: unknown): void {
    if (ArrayBuffer.isView(values)) this.owned.delete(values.buffer as ArrayBuffer);
  }

  /** The tensor owning `values` was disposed: keep its buffer for a later allocation of the same size. */
  release(values: Float32Array): void {
    const buf = values.buffer as ArrayBuffer;
    if (!this.owned.has(buf)) return;
    this.owned.delete(buf);
    const bytes = buf.byteLength;
    if (this.pooledBytes + bytes > this.maxBytes) return; // left to the GC
    let list = this.free.get(bytes);
    if (list == null) this.free.set(bytes, (list = []));
    list.push(buf);
    this.pooledBytes += bytes;
  }

  /** Drops every pooled buffer (to the GC). */
  clear(): void {
    this.free.clear();
    this.pooledBytes = 0;
  }

  get bytes(): number {
    return this.pooledBytes;
  }
}
