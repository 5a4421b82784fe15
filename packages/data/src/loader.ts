import { availableParallelism } from 'node:os';
import type { Dataset } from '@netaug/core';
import { DatasetLoaderCore, type LoaderOptions, type LoaderPlatform } from './loader-core';
import { PrefetchPool } from './worker-pool';

export type { LoaderOptions } from './loader-core';

const NODE: LoaderPlatform = {
  parallelism: availableParallelism,
  createPool: (init, workers, warn) => new PrefetchPool(init, workers, warn),
};

/**
 * A resumable, seeded `DataLoader` (of @netaug/core). Iterating yields the remaining batches of the current epoch and
 * moves to the next. Every batch is a pure function of `(seed, epoch, batch index)`: `getState()` saved
 * mid-epoch and restored with `setState()` on a new loader reproduces the exact remaining batches (pixels
 * and labels, random transforms included), in-thread or with worker threads alike.
 */
export class DatasetLoader extends DatasetLoaderCore {
  constructor(dataset: Dataset, options: LoaderOptions) {
    super(dataset, options, NODE);
  }
}

/** A {@link DatasetLoader} over `dataset` (see {@link LoaderOptions} for the threading policy). */
export function createLoader(dataset: Dataset, options: LoaderOptions): DatasetLoader {
  return new DatasetLoader(dataset, options);
}
