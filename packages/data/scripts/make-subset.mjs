#!/usr/bin/env node
/**
 * Makes the embedded Fashion-MNIST subset (assets/fashion-mnist-subset/): 10,000 train + 2,000 test images,
 * exactly 1,000 / 200 per class, chosen with a fixed seed from the full dataset, written as gzip IDX files
 * in the original index order. Deterministic: running it again gives byte-identical files.
 *
 *   node scripts/make-subset.mjs [sourceDir=/usr/share/datasets/fashion-mnist] [outDir=assets/fashion-mnist-subset]
 *
 * The source is the Debian package `dataset-fashion-mnist` (or any folder with the 4 original files).
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { gunzipSync, gzipSync, constants } from 'node:zlib';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '@netaug/core';

const here = dirname(fileURLToPath(import.meta.url));
const src = resolve(process.argv[2] ?? '/usr/share/datasets/fashion-mnist');
const out = resolve(process.argv[3] ?? join(here, '..', 'assets', 'fashion-mnist-subset'));
const SEED = 20170825; // Fashion-MNIST's release date
const PER_CLASS = { train: 1000, t10k: 200 };

function readIdx(file) {
  let b = readFileSync(file);
  if (b[0] === 0x1f && b[1] === 0x8b) b = gunzipSync(b);
  const nd = b[3];
  const dims = Array.from({ length: nd }, (_, i) => b.readUInt32BE(4 + 4 * i));
  return { dims, data: b.subarray(4 + 4 * nd) };
}

function writeIdx(file, dims, data) {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  // zlib writes mtime 0 and no file name, so the output is reproducible
  writeFileSync(file, gzipSync(Buffer.concat([header, data]), { level: constants.Z_BEST_COMPRESSION }));
}

mkdirSync(out, { recursive: true });
const rng = new Rng(SEED);
for (const prefix of ['train', 't10k']) {
  const images = readIdx(join(src, `${prefix}-images-idx3-ubyte.gz`));
  const labels = readIdx(join(src, `${prefix}-labels-idx1-ubyte.gz`));
  const [n, h, w] = images.dims;
  const byClass = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < n; i++) byClass[labels.data[i]].push(i);
  const chosen = byClass.flatMap((idx) => rng.shuffle(idx).slice(0, PER_CLASS[prefix])).sort((a, b) => a - b);
  const px = Buffer.alloc(chosen.length * h * w);
  const lb = Buffer.alloc(chosen.length);
  chosen.forEach((i, k) => {
    images.data.copy(px, k * h * w, i * h * w, (i + 1) * h * w);
    lb[k] = labels.data[i];
  });
  writeIdx(join(out, `${prefix}-images-idx3-ubyte.gz`), [chosen.length, h, w], px);
  writeIdx(join(out, `${prefix}-labels-idx1-ubyte.gz`), [chosen.length], lb);
  console.log(`${prefix}: ${chosen.length} of ${n} images, ${PER_CLASS[prefix]} per class`);
}
