import { NetAugError, type Dataset } from '@netaug/core';
import { loadRunData } from './build-data';
import type { RunFolder } from './read-run';

type DataModule = typeof import('@netaug/data');

/** Data of a finished run, preprocessed exactly as at training time (channels, size, normalisation). */
export interface RunEvalData {
  train: Dataset;
  test: Dataset;
  source: string;
  /** Loader over `test` (or any dataset of the same source) with the run's eval transforms. */
  loader(ds: Dataset, batchSize?: number): ReturnType<DataModule['createLoader']>;
  /** The first `n` images of `ds` (evenly spaced), preprocessed, with their labels. */
  images(ds: Dataset, n: number): Promise<{ images: Float32Array[]; labels: number[] }>;
}

/**
 * Refuses data the run's model cannot be evaluated on: other classes (names or order), or — for runs that
 * recorded it — images of another channel count or size than the training data (they would be converted
 * silently and score near chance).
 */
function checkFits(run: RunFolder, ds: Dataset, data: string): void {
  const want = run.data.classNames;
  const got = ds.classNames;
  if (want.length !== got.length || want.some((c, i) => c !== got[i])) {
    throw new NetAugError(
      'SHAPE_MISMATCH',
      `the model of ${run.dir} predicts ${want.length} classes (${want.slice(0, 5).join(', ')}${want.length > 5 ? ', …' : ''}); ` +
        `${data} has ${got.length} (${got.slice(0, 5).join(', ')}${got.length > 5 ? ', …' : ''})`,
      { hint: 'evaluate on data with the same classes in the same order as the training data' },
    );
  }
  const src = run.data.sourceShape;
  if (src && (src[0] !== ds.shape[0] || src[1] !== ds.shape[1] || src[2] !== ds.shape[2])) {
    throw new NetAugError(
      'SHAPE_MISMATCH',
      `${run.dir} was trained on ${src.join('×')} images; ${data} has ${ds.shape.join('×')}`,
      { hint: 'evaluate on data of the same size and channels as the training data' },
    );
  }
}

export async function loadRunEvalData(
  run: RunFolder,
  o: { data?: string; dataDir?: string; testSubset?: number } = {},
): Promise<RunEvalData> {
  const data: DataModule = await import('@netaug/data');
  const [h, w, c] = run.data.inputShape;
  const other = o.data !== undefined && o.data !== run.config.data;
  const d = await loadRunData({
    ...run.config,
    // other data: its own training images (calibration), not the run's subset or validation split of them
    ...(other ? { subset: undefined, valSplit: undefined } : {}),
    data: o.data ?? run.config.data,
    dataDir: o.dataDir ?? run.config.dataDir,
    testSubset: o.testSubset ?? (other ? undefined : run.config.testSubset),
    resolution: h,
    channels: c as 1 | 3,
  });
  checkFits(run, d.test, o.data ?? run.config.data);
  const transformFor = (ds: Dataset) => {
    const t = [];
    if (ds.shape[2] !== c) t.push(c === 1 ? data.grayscale(1) : data.toRGB());
    if (ds.shape[0] !== h || ds.shape[1] !== w) t.push(data.resize([h, w]));
    t.push(data.normalize(run.data.mean, run.data.std));
    return data.compose(t);
  };
  return {
    train: d.train,
    test: d.test,
    source: d.source,
    loader: (ds, batchSize = 256) =>
      data.createLoader(ds, { batchSize, shuffle: false, transform: transformFor(ds) }),
    async images(ds, n) {
      const t = transformFor(ds);
      const count = Math.min(n, ds.size);
      const images: Float32Array[] = [];
      const labels: number[] = [];
      for (let k = 0; k < count; k++) {
        const s = await ds.get(Math.floor((k * ds.size) / count));
        const [ih, iw, ic] = ds.shape;
        const out = t.apply({ data: s.image, height: ih, width: iw, channels: ic }, data.deriveRng(0, k));
        images.push(out.data);
        labels.push(s.label);
      }
      return { images, labels };
    },
  };
}
