import { NetAugError, type Sample, type Shape3 } from '@netaug/core';
import type { DataFormat, DatasetSpec, LabeledDataset } from './types';

/**
 * A `SharedArrayBuffer` of `bytes` (shared with workers without copying), or a plain `ArrayBuffer` where there is
 * none (a browser page without cross-origin isolation; loaders there build batches in-thread anyway).
 */
function sharedBuffer(bytes: number): ArrayBufferLike {
  return typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
}

/** A `Uint8Array` of `n` bytes backed by a `SharedArrayBuffer` where there is one. */
export function sharedBytes(n: number): Uint8Array {
  return new Uint8Array(sharedBuffer(n));
}

/** An `Int32Array` of `n` labels backed by a `SharedArrayBuffer` where there is one. */
export function sharedLabels(n: number): Int32Array {
  return new Int32Array(sharedBuffer(n * 4));
}

/**
 * A dataset held in RAM as 8-bit HWC pixels (a quarter of the memory of float32); `get` returns a fresh
 * `Float32Array` scaled to [0, 1]. Used by the IDX and CIFAR readers.
 */
export class MemoryDataset implements LabeledDataset {
  readonly size: number;
  readonly shape: Shape3;
  readonly classNames: string[];
  readonly labels: Int32Array;
  readonly pixels: Uint8Array;
  readonly format: DataFormat;
  readonly source: string;
  readonly inMemory = true;
  private readonly stride: number;

  constructor(init: {
    pixels: Uint8Array;
    labels: Int32Array;
    shape: Shape3;
    classNames: string[];
    format?: DataFormat;
    source?: string;
  }) {
    const [h, w, c] = init.shape;
    this.stride = h * w * c;
    this.size = init.labels.length;
    if (init.pixels.length !== this.size * this.stride) {
      throw new NetAugError(
        'SHAPE_MISMATCH',
        `MemoryDataset: ${init.pixels.length} bytes do not hold ${this.size} images of ${h}×${w}×${c}`,
      );
    }
    this.pixels = init.pixels;
    this.labels = init.labels;
    this.shape = [h, w, c];
    this.classNames = init.classNames;
    this.format = init.format ?? 'memory';
    this.source = init.source ?? 'memory';
  }

  get(index: number): Sample {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new NetAugError('INVALID_ARGUMENT', `Index ${index} out of range [0, ${this.size})`);
    }
    const out = new Float32Array(this.stride);
    const off = index * this.stride;
    const px = this.pixels;
    for (let i = 0; i < this.stride; i++) out[i] = px[off + i] / 255;
    return { image: out, label: this.labels[index] };
  }

  workerSpec(): DatasetSpec {
    return {
      kind: 'memory',
      pixels: this.pixels,
      labels: this.labels,
      shape: this.shape,
      classNames: this.classNames,
    };
  }
}
