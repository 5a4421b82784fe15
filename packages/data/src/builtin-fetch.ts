import { NetAugError } from '@netaug/core';
import { FASHION_MNIST_CLASSES, MNIST_CLASSES } from './classes';
import type { MemoryDataset } from './memory-dataset';
import { fetchIdx } from './readers/idx-fetch';

/**
 * The IDX files of a built-in dataset's split, by their standard names: those of the embedded Fashion-MNIST
 * subset (`assets/fashion-mnist-subset/` of this package, gzip) and of the original downloads.
 */
export function builtinFileNames(split: 'train' | 'test'): { images: string; labels: string } {
  const prefix = split === 'train' ? 'train' : 't10k';
  return { images: `${prefix}-images-idx3-ubyte.gz`, labels: `${prefix}-labels-idx1-ubyte.gz` };
}

/** Options of {@link fetchBuiltin}. */
export interface FetchBuiltinOptions {
  /**
   * URL of the folder serving the four `.gz` IDX files (relative URLs resolve against the page), e.g. where an
   * application copied `node_modules/@netaug/data/assets/fashion-mnist-subset/`.
   */
  baseUrl: string;
  split?: 'train' | 'test';
}

/**
 * Loads MNIST or Fashion-MNIST (28×28×1, in memory) over `fetch`: the browser's `loadBuiltin`. It reads
 * `<baseUrl>/train-images-idx3-ubyte.gz` and `…-labels-idx1-ubyte.gz` (`t10k-…` for the test split), gzip
 * decompressed with `DecompressionStream`. Serving the embedded 10k/2k Fashion-MNIST subset of this package
 * at `baseUrl` gives the same images and labels as `loadBuiltin('fashion-mnist')` with it in Node.
 */
export async function fetchBuiltin(
  name: 'fashion-mnist' | 'mnist',
  options: FetchBuiltinOptions,
): Promise<MemoryDataset> {
  if (name !== 'fashion-mnist' && name !== 'mnist') {
    throw new NetAugError('INVALID_ARGUMENT', `Unknown built-in dataset "${String(name)}"`, {
      hint: 'use fashion-mnist or mnist',
    });
  }
  const split = options.split ?? 'train';
  if (split !== 'train' && split !== 'test')
    throw new NetAugError('INVALID_ARGUMENT', `split must be train or test, got ${String(split)}`);
  if (typeof options.baseUrl !== 'string' || options.baseUrl === '')
    throw new NetAugError(
      'INVALID_ARGUMENT',
      'fetchBuiltin needs option baseUrl (the folder serving the IDX files)',
    );
  const base = options.baseUrl.endsWith('/') ? options.baseUrl : options.baseUrl + '/';
  const files = builtinFileNames(split);
  return fetchIdx(base + files.images, base + files.labels, {
    classNames: name === 'fashion-mnist' ? FASHION_MNIST_CLASSES : MNIST_CLASSES,
    source: base,
  });
}
