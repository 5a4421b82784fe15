import { NetAugError, Rng, type Batch, type DataLoader, type LoaderState, type Shape3 } from '@netaug/core';

/** Options of {@link ArrayLoader}. */
export interface ArrayLoaderOptions {
  /** All images, HWC each, concatenated (`n · H · W · C` values). */
  images: Float32Array;
  labels: Int32Array | number[];
  shape: Shape3;
  batchSize: number;
  /** Shuffle per epoch with a generator seeded by `(seed, epoch)` (default true). */
  shuffle?: boolean;
  seed?: number;
  /** Drop the last incomplete batch (default false). */
  dropLast?: boolean;
  classNames?: string[];
}

/**
 * An in-memory {@link DataLoader}: a seeded shuffle per epoch (the order of epoch `e` depends on `(seed, e)`
 * only), state `{epoch, batch, seed}` that restores the exact position mid-epoch.
 */
export class ArrayLoader implements DataLoader {
  readonly dataset: { size: number; shape: Shape3; classNames: string[] };
  readonly batchSize: number;
  readonly batchesPerEpoch: number;
  private readonly images: Float32Array;
  private readonly labels: Int32Array;
  private readonly shuffle: boolean;
  private state: LoaderState;

  constructor(o: ArrayLoaderOptions) {
    const per = o.shape[0] * o.shape[1] * o.shape[2];
    const n = o.labels.length;
    if (o.images.length !== n * per) {
      throw new NetAugError(
        'SHAPE_MISMATCH',
        `ArrayLoader: ${o.images.length} values for ${n} images of [${o.shape}]`,
      );
    }
    if (!Number.isInteger(o.batchSize) || o.batchSize < 1) {
      throw new NetAugError(
        'INVALID_ARGUMENT',
        `ArrayLoader: batchSize must be a positive integer, got ${o.batchSize}`,
      );
    }
    const numClasses = o.classNames?.length ?? Math.max(0, ...Array.from(o.labels)) + 1;
    this.dataset = {
      size: n,
      shape: o.shape,
      classNames: o.classNames ?? Array.from({ length: numClasses }, (_, i) => `${i}`),
    };
    this.images = o.images;
    this.labels = Int32Array.from(o.labels);
    this.batchSize = o.batchSize;
    this.shuffle = o.shuffle ?? true;
    this.batchesPerEpoch = o.dropLast ? Math.floor(n / o.batchSize) : Math.ceil(n / o.batchSize);
    this.state = { epoch: 0, batch: 0, seed: o.seed ?? 0 };
  }

  getState(): LoaderState {
    return { ...this.state };
  }

  setState(state: LoaderState): void {
    this.state = { epoch: state.epoch, batch: state.batch, seed: state.seed };
  }

  /** Example order of epoch `epoch`. */
  order(epoch: number): Int32Array {
    const n = this.dataset.size;
    if (!this.shuffle) return Int32Array.from({ length: n }, (_, i) => i);
    return new Rng(`${this.state.seed}:${epoch}`).permutation(n);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    if (this.state.batch >= this.batchesPerEpoch)
      this.state = { ...this.state, epoch: this.state.epoch + 1, batch: 0 };
    const epoch = this.state.epoch;
    const order = this.order(epoch);
    const [h, w, c] = this.dataset.shape;
    const per = h * w * c;
    while (this.state.epoch === epoch && this.state.batch < this.batchesPerEpoch) {
      const b = this.state.batch;
      const idx = order.subarray(b * this.batchSize, Math.min((b + 1) * this.batchSize, order.length));
      const images = new Float32Array(idx.length * per);
      const labels = new Int32Array(idx.length);
      idx.forEach((k, i) => {
        images.set(this.images.subarray(k * per, (k + 1) * per), i * per);
        labels[i] = this.labels[k];
      });
      this.state = { ...this.state, batch: b + 1 };
      yield { images, labels, shape: [idx.length, h, w, c] };
    }
  }
}
