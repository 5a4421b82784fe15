import { MemoryDataset } from './memory-dataset';
import { ImageFilesDataset } from './readers/image-files';
import { DatasetView } from './split';
import type { DatasetSpec, LabeledDataset } from './types';

/** Rebuilds a dataset from {@link LabeledDataset.workerSpec} (in a worker thread). */
export function datasetFromSpec(spec: DatasetSpec, warn?: (m: string) => void): LabeledDataset {
  switch (spec.kind) {
    case 'memory':
      return new MemoryDataset(spec);
    case 'image-files':
      return new ImageFilesDataset(
        spec.paths,
        spec.labels,
        spec.classNames,
        spec.options,
        'image-folder',
        'worker',
        warn,
      );
    case 'view':
      return new DatasetView(datasetFromSpec(spec.base, warn), spec.indices);
  }
}
