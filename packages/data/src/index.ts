export type { Image, DataFormat, DatasetSpec, ImageDecodeOptions, LabeledDataset } from './types';
export { hasLabels } from './types';
export { loadSharp, type Sharp } from './sharp';
export { MemoryDataset } from './memory-dataset';
export { loadIdx, readIdxFile, parseIdx, idxDataset, type IdxArray, type IdxOptions } from './readers/idx';
export { fetchIdx, fetchIdxFile, fetchBytes, gunzipIfGzip } from './readers/idx-fetch';
export { fetchBuiltin, builtinFileNames, type FetchBuiltinOptions } from './builtin-fetch';
export {
  loadCifar,
  readCifarFiles,
  findCifarFiles,
  CIFAR10_CLASSES,
  type CifarOptions,
} from './readers/cifar';
export {
  ImageFilesDataset,
  decodeImage,
  IMAGE_EXTENSIONS,
  type ImageEntry,
  type ImageFilesOptions,
  type DecodeStats,
} from './readers/image-files';
export { loadImageFolder } from './readers/image-folder';
export {
  loadManifest,
  parseManifest,
  parseManifestContents,
  type ManifestRow,
  type ManifestOptions,
  type ManifestContents,
} from './readers/manifest';
export { DecodeCache, defaultCacheDir } from './cache';
export {
  loadBuiltin,
  findIdxPair,
  builtinCandidates,
  BuiltinDataset,
  EMBEDDED_FASHION_MNIST_DIR,
  SYSTEM_FASHION_MNIST_DIR,
  FASHION_MNIST_CLASSES,
  MNIST_CLASSES,
  type BuiltinName,
  type BuiltinOptions,
  type BuiltinSource,
} from './builtin';
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
export { DatasetLoader, createLoader, type LoaderOptions } from './loader';
export { deriveRng } from './seed';
export {
  inspectDataset,
  detectFormat,
  type DatasetInfo,
  type SplitInfo,
  type InspectOptions,
} from './inspect';
