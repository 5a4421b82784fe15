import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NetAugError } from '@netaug/core';
import { MemoryDataset, sharedBytes, sharedLabels } from '../memory-dataset';
import { readBytes } from './idx';

/** The CIFAR-10 classes in label order (used when `batches.meta.txt` is absent). */
export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];

/** Options of the CIFAR readers. */
export interface CifarOptions {
  /** `cifar10`: records of 1 label byte + 3072 pixel bytes; `cifar100`: 2 label bytes (coarse, fine) + 3072. */
  variant?: 'cifar10' | 'cifar100';
  /** CIFAR-100 only: which label to use (default `fine`). */
  labelKind?: 'fine' | 'coarse';
  /** Class names indexed by label. */
  classNames?: string[];
}

const PIXELS = 32 * 32 * 3;

/**
 * Decodes CIFAR binary records (planar CHW, R then G then B planes of 32×32) into HWC bytes and labels,
 * appending to `pixels`/`labels` at record offset `at`.
 */
function decodeRecords(
  bytes: Uint8Array,
  variant: 'cifar10' | 'cifar100',
  labelKind: 'fine' | 'coarse',
  pixels: Uint8Array,
  labels: Int32Array,
  at: number,
): void {
  const labelBytes = variant === 'cifar10' ? 1 : 2;
  const rec = labelBytes + PIXELS;
  const n = bytes.length / rec;
  for (let r = 0; r < n; r++) {
    const off = r * rec;
    labels[at + r] = variant === 'cifar10' ? bytes[off] : bytes[off + (labelKind === 'fine' ? 1 : 0)];
    const src = off + labelBytes;
    const dst = (at + r) * PIXELS;
    for (let p = 0; p < 1024; p++) {
      pixels[dst + 3 * p] = bytes[src + p];
      pixels[dst + 3 * p + 1] = bytes[src + 1024 + p];
      pixels[dst + 3 * p + 2] = bytes[src + 2048 + p];
    }
  }
}

/** Reads one or more CIFAR binary files into one in-memory dataset (32×32×3, HWC). */
export async function readCifarFiles(files: string[], options: CifarOptions = {}): Promise<MemoryDataset> {
  const variant = options.variant ?? 'cifar10';
  const labelKind = options.labelKind ?? 'fine';
  const rec = (variant === 'cifar10' ? 1 : 2) + PIXELS;
  const chunks = await Promise.all(files.map((f) => readBytes(f)));
  let total = 0;
  chunks.forEach((b, i) => {
    if (b.length === 0 || b.length % rec !== 0) {
      throw new NetAugError(
        'DATA_FORMAT',
        `${files[i]}: ${b.length} bytes is not a whole number of ${variant} records of ${rec} bytes`,
        {
          hint: `is this a ${variant} binary file (not the Python pickle version)?`,
          details: { file: files[i] },
        },
      );
    }
    total += b.length / rec;
  });
  const pixels = sharedBytes(total * PIXELS);
  const labels = sharedLabels(total);
  let at = 0;
  chunks.forEach((b) => {
    decodeRecords(b, variant, labelKind, pixels, labels, at);
    at += b.length / rec;
  });
  let max = 0;
  for (let i = 0; i < total; i++) max = Math.max(max, labels[i]);
  const defaultCount = variant === 'cifar10' ? 10 : labelKind === 'fine' ? 100 : 20;
  const classNames =
    options.classNames ??
    (variant === 'cifar10'
      ? CIFAR10_CLASSES
      : Array.from({ length: Math.max(defaultCount, max + 1) }, (_, i) => String(i)));
  if (max >= classNames.length) {
    throw new NetAugError(
      'DATA_FORMAT',
      `${files.join(', ')}: label ${max} out of range for ${classNames.length} classes`,
    );
  }
  return new MemoryDataset({
    pixels,
    labels,
    shape: [32, 32, 3],
    classNames,
    format: variant,
    source: files.length === 1 ? files[0] : files[0].replace(/[^/\\]*$/, ''),
  });
}

/** The files of a CIFAR folder (the official binary tarball layout), or `null` when `dir` is not one. */
export function findCifarFiles(
  dir: string,
): { variant: 'cifar10' | 'cifar100'; dir: string; train: string[]; test: string[] } | null {
  for (const d of [dir, join(dir, 'cifar-10-batches-bin'), join(dir, 'cifar-100-binary')]) {
    if (!existsSync(d)) continue;
    const names = readdirSync(d);
    const batches = names.filter((n) => /^data_batch_\d+\.bin$/.test(n)).sort();
    if (batches.length > 0 || names.includes('test_batch.bin')) {
      return {
        variant: 'cifar10',
        dir: d,
        train: batches.map((n) => join(d, n)),
        test: names.includes('test_batch.bin') ? [join(d, 'test_batch.bin')] : [],
      };
    }
    if (names.includes('train.bin') || names.includes('test.bin')) {
      return {
        variant: 'cifar100',
        dir: d,
        train: names.includes('train.bin') ? [join(d, 'train.bin')] : [],
        test: names.includes('test.bin') ? [join(d, 'test.bin')] : [],
      };
    }
  }
  return null;
}

async function readNames(file: string): Promise<string[] | undefined> {
  if (!existsSync(file)) return undefined;
  const lines = (await readFile(file, 'utf8'))
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.length ? lines : undefined;
}

/**
 * Loads a split of a CIFAR-10 (`data_batch_{1..5}.bin`, `test_batch.bin`) or CIFAR-100 (`train.bin`, `test.bin`)
 * binary folder. Class names come from `batches.meta.txt` / `fine_label_names.txt` / `coarse_label_names.txt`
 * when present.
 */
export async function loadCifar(
  dir: string,
  options: CifarOptions & { split?: 'train' | 'test' } = {},
): Promise<MemoryDataset> {
  const found = findCifarFiles(dir);
  if (!found) {
    throw new NetAugError('DATA_NOT_FOUND', `${dir} is not a CIFAR binary folder`, {
      hint: 'expected data_batch_N.bin / test_batch.bin (CIFAR-10) or train.bin / test.bin (CIFAR-100)',
    });
  }
  const split = options.split ?? 'train';
  const files = found[split];
  if (files.length === 0) throw new NetAugError('DATA_NOT_FOUND', `${found.dir} has no ${split} files`);
  const labelKind = options.labelKind ?? 'fine';
  const names =
    options.classNames ??
    (found.variant === 'cifar10'
      ? await readNames(join(found.dir, 'batches.meta.txt'))
      : await readNames(join(found.dir, `${labelKind}_label_names.txt`)));
  const ds = await readCifarFiles(files, { variant: found.variant, labelKind, classNames: names });
  return new MemoryDataset({
    pixels: ds.pixels,
    labels: ds.labels,
    shape: ds.shape,
    classNames: ds.classNames,
    format: found.variant,
    source: found.dir,
  });
}
