import type { Dataset, Shape3 } from '@netaug/core';

/** One HWC image in flight through transforms. `data.length === height * width * channels`. */
export interface Image {
  data: Float32Array;
  height: number;
  width: number;
  channels: number;
}

/** Where a dataset's examples came from (printed by `netaug data inspect`). */
export type DataFormat = 'idx' | 'cifar10' | 'cifar100' | 'image-folder' | 'manifest' | 'memory' | 'view';

/**
 * A serialisable description of a dataset, enough to rebuild it inside a worker thread.
 * In-memory datasets keep their pixels in `SharedArrayBuffer`s, so the spec shares them without copying.
 */
export type DatasetSpec =
  | {
      kind: 'memory';
      pixels: Uint8Array;
      labels: Int32Array;
      shape: Shape3;
      classNames: string[];
    }
  | {
      kind: 'image-files';
      paths: string[];
      labels: Int32Array;
      classNames: string[];
      options: ImageDecodeOptions;
    }
  | { kind: 'view'; base: DatasetSpec; indices: Int32Array };

/** How image files are decoded into HWC tensors. */
export interface ImageDecodeOptions {
  /** Target `[height, width]`. */
  size: [number, number];
  /** 1 (grayscale) or 3 (RGB). */
  channels: 1 | 3;
  /** How the image is fitted to `size`: `cover` keeps the aspect ratio and center-crops (default), `fill` stretches, `contain` letterboxes with black. */
  fit: 'cover' | 'fill' | 'contain';
  /** Folder of the decoded-tensor cache, or `false` for no cache. */
  cacheDir: string | false;
  /** Skip unreadable images (warn and count) instead of throwing. */
  skipCorrupt: boolean;
}

/**
 * A {@link Dataset} whose labels are known without decoding images (all datasets of this package).
 * `labels[i]` is the label of example `i`.
 */
export interface LabeledDataset extends Dataset {
  readonly labels: Int32Array;
  readonly format: DataFormat;
  /** Where the data came from: a path, or `embedded` for the subset shipped in this package. */
  readonly source: string;
  /** True when all pixels are in RAM (workers would only add copying); false for file-backed datasets. */
  readonly inMemory: boolean;
  /** A description a worker thread can rebuild this dataset from; absent when that is impossible. */
  workerSpec?(): DatasetSpec | undefined;
}

/** True when `ds` carries per-example labels (datasets made by this package do). */
export function hasLabels(ds: Dataset): ds is LabeledDataset {
  return (ds as Partial<LabeledDataset>).labels instanceof Int32Array;
}
