import type { Shape3 } from './model-ir';
import type { RngState } from './rng';

/** One example: an HWC float image and its class index. */
export interface Sample {
  image: Float32Array;
  label: number;
}

/** Random access to examples of one split. `get` may be sync or async (decoding files). */
export interface Dataset {
  readonly size: number;
  /** Per-example HWC shape of `image` (after the dataset's own transforms). */
  readonly shape: Shape3;
  /** Class names; `classNames.length` is the number of classes and a label indexes it. */
  readonly classNames: string[];
  get(index: number): Sample | Promise<Sample>;
}

/** A batch in plain typed arrays (NHWC images, int labels), transferable between threads. */
export interface Batch {
  images: Float32Array;
  labels: Int32Array;
  /** `[N, H, W, C]` */
  shape: [number, number, number, number];
}

/** Where a loader stands: enough to continue the exact same sequence of batches after a restart. */
export interface LoaderState {
  epoch: number;
  /** Index of the next batch within the epoch. */
  batch: number;
  seed: number;
  rng?: RngState;
}

/**
 * Batches of a dataset, one epoch per iteration: iterating yields the remaining batches of the current epoch
 * and then moves to the next epoch. `getState()`/`setState()` save and restore the position mid-epoch.
 */
export interface DataLoader extends AsyncIterable<Batch> {
  readonly dataset: Pick<Dataset, 'size' | 'shape' | 'classNames'>;
  readonly batchSize: number;
  readonly batchesPerEpoch: number;
  getState(): LoaderState;
  setState(state: LoaderState): void;
  /** Stops background work (worker threads, open files). */
  close?(): Promise<void> | void;
}
