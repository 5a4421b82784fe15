import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NetAugError, type Dataset, type Shape3 } from '@netaug/core';
import type { RunConfig } from './run-config';

/** The train and evaluation data of a run, with what was decided about them. */
export interface RunData {
  train: Dataset;
  /** The validation split held out of the training data (`valSplit`), if any. */
  val?: Dataset;
  test: Dataset;
  /** Model input shape after transforms. */
  inputShape: Shape3;
  classNames: string[];
  /** Where the data came from (e.g. `embedded: …/fashion-mnist-subset`). */
  source: string;
  /** Per-channel normalisation computed on the training data (≤ 1000 images). */
  mean: number[];
  std: number[];
}

type DataModule = typeof import('@netaug/data');

/** Loads the data a run config names: a built-in (fashion-mnist, mnist) or a path of any supported format. */
export async function loadRunData(cfg: RunConfig): Promise<RunData> {
  const data: DataModule = await import('@netaug/data');
  let train: Dataset;
  let test: Dataset;
  let source: string;
  if (cfg.dataDir && !existsSync(cfg.dataDir)) {
    throw new NetAugError('DATA_NOT_FOUND', `dataDir '${cfg.dataDir}' does not exist`, {
      hint: 'pass the folder that holds the IDX files, or leave --data-dir out to use the installed or embedded copy',
    });
  }
  if (cfg.data === 'fashion-mnist' || cfg.data === 'mnist') {
    const tr = await data.loadBuiltin(cfg.data, { split: 'train', dataDir: cfg.dataDir });
    test = await data.loadBuiltin(cfg.data, { split: 'test', dataDir: cfg.dataDir });
    train = tr;
    source = `${tr.sourceKind}: ${tr.sourceDir}`;
  } else {
    if (!existsSync(cfg.data)) {
      throw new NetAugError('DATA_NOT_FOUND', `data path '${cfg.data}' does not exist`, {
        hint: 'pass fashion-mnist, mnist, or the path of an IDX/CIFAR folder, an image folder or a CSV/JSON manifest',
      });
    }
    ({ train, test } = await loadPath(data, cfg));
    source = cfg.data;
  }
  if (cfg.onlyClasses) {
    train = data.selectClasses(train, cfg.onlyClasses);
    test = data.selectClasses(test, cfg.onlyClasses);
  }
  let val: Dataset | undefined;
  if (cfg.valSplit) ({ train, val } = holdOut(data, train, cfg.valSplit));
  const tooMany = (key: string, n: number, have: number, what: string) =>
    new NetAugError('INVALID_CONFIG', `${key} ${n} is more than the ${have} ${what} of ${source}`, {
      hint: `use at most ${have}, or leave ${key} out to use them all`,
    });
  if (cfg.subset && cfg.subset > train.size)
    throw tooMany(
      'subset',
      cfg.subset,
      train.size,
      cfg.valSplit ? 'training images left after the validation split' : 'training images',
    );
  if (cfg.testSubset && cfg.testSubset > test.size)
    throw tooMany('testSubset', cfg.testSubset, test.size, 'test images');
  if (cfg.subset && cfg.subset < train.size) train = data.subset(train, cfg.subset, cfg.seed);
  if (cfg.testSubset && cfg.testSubset < test.size) test = data.subset(test, cfg.testSubset, cfg.seed);
  const [h, w, c] = train.shape;
  const res = cfg.resolution ?? h;
  const channels = cfg.channels ?? c;
  const { mean, std } = await channelStats(train, channels, cfg.seed);
  return {
    train,
    ...(val ? { val } : {}),
    test,
    inputShape: [res, cfg.resolution ?? w, channels],
    classNames: train.classNames,
    source,
    mean,
    std,
  };
}

async function loadPath(data: DataModule, cfg: RunConfig): Promise<{ train: Dataset; test: Dataset }> {
  const format = data.detectFormat(cfg.data);
  const size = cfg.resolution ?? 64;
  const decodeSize = cfg.augment === 'rrc-flip' ? Math.round(size * 1.15) : size;
  const imageOptions = {
    size: decodeSize,
    channels: cfg.channels ?? 3,
    skipCorrupt: cfg.skipCorrupt,
  } as const;
  switch (format) {
    case 'idx': {
      const load = async (split: 'train' | 'test') => {
        const pair = data.findIdxPair(cfg.data, split);
        if (!pair) {
          throw new NetAugError('DATA_NOT_FOUND', `no ${split} images/labels IDX files in '${cfg.data}'`, {
            hint: 'an IDX folder holds train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz) and the t10k-* pair',
          });
        }
        return data.loadIdx(pair.images, pair.labels);
      };
      return { train: await load('train'), test: await load('test') };
    }
    case 'cifar10':
    case 'cifar100':
      return {
        train: await data.loadCifar(cfg.data, { split: 'train' }),
        test: await data.loadCifar(cfg.data, { split: 'test' }),
      };
    case 'image-folder': {
      for (const [tr, te] of [
        ['train', 'val'],
        ['train', 'test'],
      ]) {
        if (existsSync(join(cfg.data, tr)) && existsSync(join(cfg.data, te))) {
          return {
            train: await data.loadImageFolder(join(cfg.data, tr), imageOptions),
            test: await data.loadImageFolder(join(cfg.data, te), { ...imageOptions, size }),
          };
        }
      }
      const all = await data.loadImageFolder(cfg.data, imageOptions);
      const { train, val } = data.splitDataset(all, { valFraction: cfg.valFraction, seed: cfg.seed });
      return { train, test: val };
    }
    case 'manifest': {
      const all = await data.loadManifest(cfg.data, imageOptions);
      const { train, val } = data.splitDataset(all, { valFraction: cfg.valFraction, seed: cfg.seed });
      return { train, test: val };
    }
    default:
      throw new NetAugError('DATA_FORMAT', `cannot tell the format of '${cfg.data}'`, {
        hint: 'run `netaug data inspect <path>`; supported: IDX or CIFAR folders, one sub-folder per class, CSV/JSON manifests',
      });
  }
}

/** Seed of the validation split: the same held-out images for every run seed and strategy. */
const VAL_SPLIT_SEED = 0;

/**
 * Holds `n` class-balanced training images out as the validation split (chosen with a fixed seed); the
 * training data is the rest.
 */
function holdOut(data: DataModule, train: Dataset, n: number): { train: Dataset; val: Dataset } {
  if (n >= train.size) {
    throw new NetAugError(
      'INVALID_CONFIG',
      `valSplit ${n} leaves no training images: the training data has ${train.size}`,
      { hint: `hold out fewer images, e.g. --val-split ${Math.max(1, Math.floor(train.size / 10))}` },
    );
  }
  const val = data.subset(train, n, VAL_SPLIT_SEED);
  const held = new Set(val.indices);
  const rest = new Int32Array(train.size - n);
  for (let i = 0, k = 0; i < train.size; i++) if (!held.has(i)) rest[k++] = i;
  return { train: new data.DatasetView(val.base, rest), val };
}

/** Per-channel mean/std over up to 1000 evenly spaced training images, after channel conversion. */
async function channelStats(
  ds: Dataset,
  channels: number,
  _seed: number,
): Promise<{ mean: number[]; std: number[] }> {
  const n = Math.min(ds.size, 1000);
  const c0 = ds.shape[2];
  const sum = new Float64Array(channels);
  const sq = new Float64Array(channels);
  let count = 0;
  for (let k = 0; k < n; k++) {
    const { image } = await ds.get(Math.floor((k * ds.size) / n));
    for (let i = 0; i < image.length; i += c0) {
      for (let ch = 0; ch < channels; ch++) {
        // 1 → 3 channels repeats the gray value; 3 → 1 uses the luma weights of `grayscale`
        const v =
          c0 === channels
            ? image[i + ch]
            : c0 === 1
              ? image[i]
              : 0.299 * image[i] + 0.587 * image[i + 1] + 0.114 * image[i + 2];
        sum[ch] += v;
        sq[ch] += v * v;
      }
      count++;
    }
  }
  const mean = Array.from(sum, (s) => s / count);
  const std = Array.from(sq, (s, ch) => Math.sqrt(Math.max(s / count - mean[ch] ** 2, 1e-12)));
  return { mean, std };
}
