/**
 * @netaug/data, browser build (the `browser` export condition): in-memory datasets, IDX over `fetch` (the
 * embedded Fashion-MNIST subset served by the application), splits, seeded transforms and the resumable loader
 * (batches built in the calling thread). No Node built-ins: the file readers (IDX / CIFAR files, image folders,
 * manifests), the decode cache, `inspectDataset` and worker-thread prefetch are in the Node build only.
 */
export type { Image, DataFormat, DatasetSpec, ImageDecodeOptions, LabeledDataset } from './types';
export { hasLabels } from './types';
export { MemoryDataset } from './memory-dataset';
export { parseIdx, idxDataset, type IdxArray, type IdxOptions } from './readers/idx-parse';
export { fetchIdx, fetchIdxFile, fetchBytes, gunzipIfGzip } from './readers/idx-fetch';
export { fetchBuiltin, builtinFileNames, type FetchBuiltinOptions } from './builtin-fetch';
export { FASHION_MNIST_CLASSES, MNIST_CLASSES } from './classes';
export {
  subset,
  splitDataset,
  selectClasses,
  DatasetView,
  ClassSubsetView,
  type SubsetOptions,
  type SplitOptions,
} from './split';
export * from './transforms';
export { DatasetLoader, createLoader } from './loader-browser';
export type { LoaderOptions } from './loader-core';
export { deriveRng } from './seed';
