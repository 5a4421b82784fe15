import type { Dataset } from '@netaug/core';
import { DatasetLoaderCore, type LoaderOptions, type LoaderPlatform } from './loader-core';

const BROWSER: LoaderPlatform = {
  parallelism: () => 1,
  noWorkers: 'worker prefetch needs Node worker threads; the browser build of @netaug/data has none',
};

/**
 * Browser build of the resumable, seeded loader: the same batches as in Node (a pure function of
 * `(seed, epoch, batch index)`), always built in the calling thread (`workers` must be `0` or `'auto'`).
 */
export class DatasetLoader extends DatasetLoaderCore {
  constructor(dataset: Dataset, options: LoaderOptions) {
    super(dataset, options, BROWSER);
  }
}

/** A {@link DatasetLoader} over `dataset`, batches built in the calling thread. */
export function createLoader(dataset: Dataset, options: LoaderOptions): DatasetLoader {
  return new DatasetLoader(dataset, options);
}
