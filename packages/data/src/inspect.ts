import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { loadSharp } from './sharp';
import { NetAugError, type Shape3 } from '@netaug/core';
import { findIdxPair, loadBuiltin, type BuiltinName } from './builtin';
import { MemoryDataset } from './memory-dataset';
import { findCifarFiles, loadCifar } from './readers/cifar';
import { loadIdx } from './readers/idx';
import { ImageFilesDataset } from './readers/image-files';
import { loadImageFolder } from './readers/image-folder';
import { loadManifest } from './readers/manifest';
import { subset } from './split';
import type { DataFormat, LabeledDataset } from './types';

/** Count of one split. */
export interface SplitInfo {
  count: number;
  /** Examples per class, indexed by label. */
  perClass: number[];
}

/** What {@link inspectDataset} reports. */
export interface DatasetInfo {
  format: DataFormat | 'builtin';
  /** Path read, or for built-ins `dataDir` / `env` / `system` / `embedded` plus the folder. */
  source: string;
  splits: { train: SplitInfo; test?: SplitInfo };
  numClasses: number;
  classNames: string[];
  /** `[H, W, C]` of the examples (for image files: the decode size, or the commonest native size). */
  shape: Shape3;
  /** Per-channel mean of the train split on the [0, 1] scale (the values to pass to `normalize`). */
  mean: number[];
  /** Per-channel population standard deviation of the train split on the [0, 1] scale. */
  std: number[];
  /** Examples the statistics were computed from (all for in-memory data, a seeded sample for image files). */
  statsSamples: number;
  /** Unreadable images skipped (with `skipCorrupt`). */
  skipped?: number;
}

/** Options of {@link inspectDataset}. */
export interface InspectOptions {
  /** Decode size for image files (default: statistics at 64×64, `shape` = commonest native size). */
  size?: number;
  channels?: 1 | 3;
  /** Max image files decoded for mean/std (default 1000, chosen with `seed`). */
  maxSamples?: number;
  seed?: number;
  skipCorrupt?: boolean;
  cacheDir?: string | false;
  /** For built-in names: where to look first. */
  dataDir?: string;
}

/** The format of a path: `idx`, `cifar10`, `cifar100`, `image-folder`, `manifest`, or `null` when unknown. */
export function detectFormat(path: string): Exclude<DataFormat, 'memory' | 'view'> | null {
  if (!existsSync(path)) return null;
  if (statSync(path).isFile())
    return ['.csv', '.json'].includes(extname(path).toLowerCase()) ? 'manifest' : null;
  if (findIdxPair(path, 'train') || findIdxPair(path, 'test')) return 'idx';
  const cifar = findCifarFiles(path);
  if (cifar) return cifar.variant;
  const subdirs = readdirSync(path, { withFileTypes: true }).filter(
    (e) => e.isDirectory() && !e.name.startsWith('.'),
  );
  return subdirs.length > 0 ? 'image-folder' : null;
}

function countPerClass(ds: LabeledDataset): SplitInfo {
  const perClass = new Array<number>(ds.classNames.length).fill(0);
  for (let i = 0; i < ds.size; i++) perClass[ds.labels[i]]++;
  return { count: ds.size, perClass };
}

/** Per-channel mean/std of 8-bit in-memory pixels (exact, all examples). */
function memoryStats(ds: MemoryDataset): { mean: number[]; std: number[] } {
  const c = ds.shape[2];
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  const px = ds.pixels;
  for (let i = 0; i < px.length; i += c) {
    for (let k = 0; k < c; k++) {
      const v = px[i + k];
      sum[k] += v;
      sq[k] += v * v;
    }
  }
  const n = px.length / c;
  const mean = Array.from(sum, (s) => s / n / 255);
  const std = Array.from(sq, (s, k) => Math.sqrt(Math.max(0, s / n / 65025 - mean[k] * mean[k])));
  return { mean, std };
}

async function sampledStats(
  ds: LabeledDataset,
  max: number,
  seed: number,
): Promise<{ mean: number[]; std: number[]; n: number }> {
  const view = ds.size > max ? subset(ds, max, seed, { stratified: false }) : null;
  const n = view ? view.size : ds.size;
  const c = ds.shape[2];
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  let count = 0;
  for (let i = 0; i < n; i += 16) {
    const samples = await Promise.all(
      Array.from({ length: Math.min(16, n - i) }, (_, k) => (view ?? ds).get(i + k)),
    );
    for (const s of samples) {
      for (let j = 0; j < s.image.length; j += c) {
        for (let k = 0; k < c; k++) {
          sum[k] += s.image[j + k];
          sq[k] += s.image[j + k] * s.image[j + k];
        }
      }
      count += s.image.length / c;
    }
  }
  const mean = Array.from(sum, (s) => s / count);
  return { mean, std: Array.from(sq, (s, k) => Math.sqrt(Math.max(0, s / count - mean[k] * mean[k]))), n };
}

async function commonestShape(ds: ImageFilesDataset, channels: number, limit: number): Promise<Shape3> {
  const counts = new Map<string, number>();
  const sharp = await loadSharp('inspecting image files');
  for (const p of ds.paths.slice(0, limit)) {
    try {
      const m = await sharp(p).metadata();
      const k = `${m.height},${m.width}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    } catch {
      /* counted as skipped when decoded */
    }
  }
  const best = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
  const [h, w] = best ? best[0].split(',').map(Number) : [0, 0];
  return [h, w, channels];
}

/**
 * Describes a dataset for `netaug data inspect`: format, source, per-split counts and per-class counts,
 * class names, example shape, and per-channel mean/std of the train split. `pathOrName` is a built-in name
 * (`fashion-mnist`, `mnist`), an IDX folder, a CIFAR binary folder, an ImageFolder (with optional
 * `train/` and `val/` or `test/` sub-folders), or a CSV/JSON manifest.
 */
export async function inspectDataset(pathOrName: string, options: InspectOptions = {}): Promise<DatasetInfo> {
  const seed = options.seed ?? 0;
  if ((pathOrName === 'fashion-mnist' || pathOrName === 'mnist') && !existsSync(pathOrName)) {
    const name = pathOrName as BuiltinName;
    const train = await loadBuiltin(name, { split: 'train', dataDir: options.dataDir });
    const test = await loadBuiltin(name, { split: 'test', dataDir: options.dataDir }).catch(() => undefined);
    const st = memoryStats(train);
    return {
      format: 'builtin',
      source: `${train.sourceKind} (${train.sourceDir})`,
      splits: { train: countPerClass(train), ...(test ? { test: countPerClass(test) } : {}) },
      numClasses: train.classNames.length,
      classNames: train.classNames,
      shape: train.shape,
      ...st,
      statsSamples: train.size,
    };
  }
  const path = resolve(pathOrName);
  const format = detectFormat(path);
  if (!format) {
    throw new NetAugError(
      existsSync(path) ? 'DATA_FORMAT' : 'DATA_NOT_FOUND',
      `Cannot recognise a dataset at ${path}`,
      {
        hint: 'expected fashion-mnist / mnist, an IDX folder, a CIFAR binary folder, an ImageFolder, or a .csv/.json manifest',
      },
    );
  }
  let train: LabeledDataset;
  let test: LabeledDataset | undefined;
  if (format === 'idx') {
    const tr = findIdxPair(path, 'train');
    const te = findIdxPair(path, 'test');
    const main = (tr ?? te)!;
    train = await loadIdx(main.images, main.labels);
    if (tr && te) test = await loadIdx(te.images, te.labels);
  } else if (format === 'cifar10' || format === 'cifar100') {
    const files = findCifarFiles(path)!;
    train = await loadCifar(path, { split: files.train.length ? 'train' : 'test' });
    if (files.train.length && files.test.length) test = await loadCifar(path, { split: 'test' });
  } else {
    const fileOpts = {
      size: options.size ?? 64,
      channels: options.channels ?? 3,
      cacheDir: options.cacheDir,
      skipCorrupt: options.skipCorrupt,
    };
    if (format === 'manifest') train = await loadManifest(path, fileOpts);
    else {
      const sub = (n: string) =>
        existsSync(join(path, n)) && statSync(join(path, n)).isDirectory() ? join(path, n) : null;
      const trainDir = sub('train');
      const testDir = sub('val') ?? sub('test');
      train = await loadImageFolder(trainDir ?? path, fileOpts);
      if (trainDir && testDir) test = await loadImageFolder(testDir, fileOpts);
    }
  }
  let stats: { mean: number[]; std: number[]; n: number };
  let shape: Shape3 = train.shape;
  if (train instanceof MemoryDataset) stats = { ...memoryStats(train), n: train.size };
  else {
    stats = await sampledStats(train, options.maxSamples ?? 1000, seed);
    if (!options.size && train instanceof ImageFilesDataset)
      shape = await commonestShape(train, train.shape[2], 200);
  }
  const skipped = (train as ImageFilesDataset).stats?.skipped;
  return {
    format,
    source: train.source,
    splits: { train: countPerClass(train), ...(test ? { test: countPerClass(test) } : {}) },
    numClasses: train.classNames.length,
    classNames: train.classNames,
    shape,
    mean: stats.mean,
    std: stats.std,
    statsSamples: stats.n,
    ...(skipped !== undefined
      ? { skipped: skipped + ((test as ImageFilesDataset | undefined)?.stats?.skipped ?? 0) }
      : {}),
  };
}
