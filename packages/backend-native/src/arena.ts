/**
 * Large kernel outputs live in a few big ArrayBuffers ("chunks") carved into blocks: an output is a
 * Float32Array view of a block, and the block returns to its chunk's free list (merged with free neighbours)
 * when tfjs disposes the tensor. Memory once written stays mapped and warm, whatever sizes the next step
 * asks for — NetAug changes the augmented model's widths every step, and on a machine where a page fault
 * costs microseconds, first writes to fresh buffers were most of its step time (measured: a 71 MB
 * batch-norm gradient 20 ms into a reused buffer, ~220 ms into a fresh one; 0.8–2.3 GB of fresh buffers per
 * NetAug step with exact-size-class recycling).
 */

/** Block sizes and offsets are multiples of this (a cache line). */
export const BLOCK_ALIGN = 64;

interface FreeBlock {
  off: number;
  size: number;
}

interface Chunk {
  readonly buf: ArrayBuffer;
  /** Free blocks, sorted by offset, never adjacent (merged on release). */
  readonly free: FreeBlock[];
  /** Bytes in blocks handed out. */
  used: number;
}

function align(bytes: number): number {
  return Math.ceil(bytes / BLOCK_ALIGN) * BLOCK_ALIGN;
}

export class Arena {
  private readonly chunks: Chunk[] = [];
  private readonly byBuffer = new WeakMap<ArrayBuffer, Chunk>();
  /** Blocks handed out and not yet released (nor escaped). */
  private readonly live = new WeakSet<Float32Array>();
  /** Bytes of all chunks. */
  capacity = 0;
  /** Bytes of all free blocks. */
  freeBytes = 0;
  /** Allocations served from an existing chunk / that needed a new chunk. */
  hits = 0;
  misses = 0;
  /** Chunks dropped (to the GC) because the chunks' bytes exceeded `maxBytes`. */
  evictions = 0;

  /**
   * @param chunkBytes size of a new chunk (a larger request gets a chunk of its own size)
   * @param maxBytes chunk bytes kept: past it, a chunk is dropped as soon as it is wholly free (a step whose
   *   outputs need more gets chunks for the moment)
   */
  constructor(
    readonly chunkBytes: number,
    readonly maxBytes: number,
  ) {}

  /** A Float32Array of `n` > 0 elements in a free block (contents undefined: callers write every element). */
  alloc(n: number): Float32Array {
    const size = align(n * 4);
    let chunk: Chunk | undefined;
    let at = -1;
    let best = Infinity;
    for (const c of this.chunks) {
      const free = c.free;
      for (let i = 0; i < free.length; i++) {
        const s = free[i].size;
        if (s >= size && s < best) {
          best = s;
          chunk = c;
          at = i;
          if (s === size) break;
        }
      }
      if (best === size) break;
    }
    if (chunk == null) {
      this.misses++;
      const bytes = Math.max(this.chunkBytes, Math.ceil(size / 2 ** 20) * 2 ** 20);
      // allocUnsafeSlow: a dedicated ArrayBuffer without the zero fill (pages are mapped on first write)
      chunk = {
        buf: Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer,
        free: [{ off: 0, size: bytes }],
        used: 0,
      };
      this.chunks.push(chunk);
      this.byBuffer.set(chunk.buf, chunk);
      this.capacity += bytes;
      this.freeBytes += bytes;
      at = 0;
    } else {
      this.hits++;
    }
    const block = chunk.free[at];
    const off = block.off;
    block.off += size;
    block.size -= size;
    if (block.size === 0) chunk.free.splice(at, 1);
    chunk.used += size;
    this.freeBytes -= size;
    const v = new Float32Array(chunk.buf, off, n);
    this.live.add(v);
    return v;
  }

  /** Whether `values` is a block handed out by this arena and not released or escaped. */
  owns(values: unknown): boolean {
    return values instanceof Float32Array && this.live.has(values);
  }

  /** Whether `values` views memory of one of this arena's chunks (a block, or a view into one). */
  contains(values: ArrayBufferView): boolean {
    return this.byBuffer.has(values.buffer as ArrayBuffer);
  }

  /** The block may be referenced elsewhere: never reuse it (its bytes stay taken). */
  escape(values: Float32Array): void {
    this.live.delete(values);
  }

  /** The block's tensor was disposed: its bytes are free again. */
  release(values: Float32Array): void {
    if (!this.live.delete(values)) return;
    const chunk = this.byBuffer.get(values.buffer as ArrayBuffer)!;
    const size = align(values.byteLength);
    const off = values.byteOffset;
    const free = chunk.free;
    // first free block after `off`
    let lo = 0;
    let hi = free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (free[mid].off < off) lo = mid + 1;
      else hi = mid;
    }
    const prev = lo > 0 ? free[lo - 1] : undefined;
    const next = lo < free.length ? free[lo] : undefined;
    if (prev != null && prev.off + prev.size === off) {
      prev.size += size;
      if (next != null && off + size === next.off) {
        prev.size += next.size;
        free.splice(lo, 1);
      }
    } else if (next != null && off + size === next.off) {
      next.off = off;
      next.size += size;
    } else {
      free.splice(lo, 0, { off, size });
    }
    chunk.used -= size;
    this.freeBytes += size;
    if (chunk.used === 0 && this.capacity > this.maxBytes) this.drop(chunk);
  }

  private drop(chunk: Chunk): void {
    this.chunks.splice(this.chunks.indexOf(chunk), 1);
    this.byBuffer.delete(chunk.buf);
    this.capacity -= chunk.buf.byteLength;
    this.freeBytes -= chunk.buf.byteLength;
    this.evictions++; // left to the GC
  }

  /** Drops every wholly free chunk. */
  clear(): void {
    for (const c of [...this.chunks]) if (c.used === 0) this.drop(c);
  }

  /** Chunks and their free blocks, for tests. */
  layout(): { buffer: ArrayBuffer; bytes: number; used: number; free: FreeBlock[] }[] {
    return this.chunks.map((c) => ({
      buffer: c.buf,
      bytes: c.buf.byteLength,
      used: c.used,
      free: c.free.map((f) => ({ ...f })),
    }));
  }
}
