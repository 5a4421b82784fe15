#!/usr/bin/env node
/**
 * Data-pipeline throughput on the built package (run `npm run build` first). Prints one JSON line per
 * measurement: images/s for
 *   - IDX: the embedded Fashion-MNIST subset (10,000 × 28×28×1), batch 128, random crop (pad 2) + flip,
 *     in-thread (the default for in-memory data) and with one worker;
 *   - ImageFolder: ~500 generated JPEGs of mixed sizes, decoded to 160 px (cover), random-resized-crop to
 *     144 + flip, batch 64; epoch 1 decodes (cold cache), epoch 2 reads the decoded-tensor cache;
 *     with worker prefetch (the default for files) and in-thread.
 *
 *   node bench/data.mjs [--images 500] [--keep]
 */
/* global setInterval, clearInterval */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  createLoader,
  loadBuiltin,
  loadImageFolder,
  randomCrop,
  randomHorizontalFlip,
  randomResizedCrop,
  EMBEDDED_FASHION_MNIST_DIR,
} from '../dist/index.mjs';

const args = process.argv.slice(2);
const nImages = Number(args[args.indexOf('--images') + 1]) || 500;
const keep = args.includes('--keep');
const cores = availableParallelism();
const emit = (o) => console.log(JSON.stringify({ ...o, cores, node: process.version }));
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

async function epoch(loader) {
  const t0 = performance.now();
  let n = 0;
  for await (const b of loader) n += b.shape[0];
  return { images: n, seconds: (performance.now() - t0) / 1000 };
}

// --- IDX ---------------------------------------------------------------------------------------------
const fm = await loadBuiltin('fashion-mnist', { split: 'train', dataDir: EMBEDDED_FASHION_MNIST_DIR });
for (const workers of [0, 1]) {
  const loader = createLoader(fm, {
    batchSize: 128,
    seed: 0,
    transform: [randomCrop(28, { padding: 2 }), randomHorizontalFlip()],
    workers,
  });
  await epoch(loader); // warm-up (JIT, worker start)
  const r = await epoch(loader);
  await loader.close();
  emit({
    bench: 'idx-fashion-mnist-subset',
    shape: [28, 28, 1],
    batch: 128,
    transform: 'randomCrop(pad 2)+flip',
    mode: loader.mode,
    workers,
    images: r.images,
    seconds: +r.seconds.toFixed(3),
    imagesPerSecond: Math.round(r.images / r.seconds),
  });
}

// --- ImageFolder ---------------------------------------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), 'netaug-bench-'));
const root = join(dir, 'images');
const classes = ['c0', 'c1', 'c2', 'c3', 'c4'];
const tGen = performance.now();
for (let i = 0; i < nImages; i++) {
  const w = 200 + ((i * 97) % 440); // 200…639
  const h = 150 + ((i * 53) % 330); // 150…479
  const px = Buffer.alloc(w * h * 3);
  for (let p = 0, y = 0; y < h; y++)
    for (let x = 0; x < w; x++, p += 3) {
      px[p] = (x * 255) / w;
      px[p + 1] = (y * 255) / h;
      px[p + 2] = ((x ^ y) + i * 13) & 255;
    }
  const cls = join(root, classes[i % classes.length]);
  mkdirSync(cls, { recursive: true });
  writeFileSync(
    join(cls, `${i}.jpg`),
    await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .jpeg({ quality: 85 })
      .toBuffer(),
  );
}
emit({
  bench: 'imagefolder-generate',
  images: nImages,
  sizes: '200–639 × 150–479 JPEG',
  seconds: +((performance.now() - tGen) / 1000).toFixed(2),
});

for (const workers of ['auto', 0]) {
  const cacheDir = join(dir, `cache-${workers}`);
  const t0 = performance.now();
  const ds = await loadImageFolder(root, { size: 160, cacheDir });
  const openSeconds = (performance.now() - t0) / 1000;
  const loader = createLoader(ds, {
    batchSize: 64,
    seed: 0,
    transform: [randomResizedCrop(144), randomHorizontalFlip()],
    workers,
  });
  const before = loader.stats();
  const e1 = await epoch(loader);
  const mid = loader.stats();
  const e2 = await epoch(loader);
  const after = loader.stats();
  await loader.close();
  const delta = (a, b) => Object.fromEntries(Object.keys(b).map((k) => [k, b[k] - (a[k] ?? 0)]));
  for (const [name, r, stats] of [
    ['epoch1-decode', e1, delta(before, mid)],
    ['epoch2-cache', e2, delta(mid, after)],
  ]) {
    emit({
      bench: `imagefolder-${name}`,
      decodeSize: 160,
      shape: [144, 144, 3],
      batch: 64,
      transform: 'randomResizedCrop(144)+flip',
      mode: loader.mode,
      workers: loader.workerCount,
      images: r.images,
      seconds: +r.seconds.toFixed(3),
      imagesPerSecond: Math.round(r.images / r.seconds),
      openSeconds: +openSeconds.toFixed(3),
      stats,
    });
  }
}

// A consumer that keeps the main thread busy (like a synchronous training step) for `stepMs` per batch:
// with workers, preparing the next batches overlaps the step; in-thread it cannot (transforms are JS).
const stepMs = 250;
for (const workers of ['auto', 0]) {
  const ds = await loadImageFolder(root, { size: 160, cacheDir: join(dir, 'cache-auto') }); // warm cache
  const loader = createLoader(ds, {
    batchSize: 64,
    seed: 1,
    transform: [randomResizedCrop(144), randomHorizontalFlip()],
    workers,
  });
  const t0 = performance.now();
  let n = 0;
  for await (const b of loader) {
    n += b.shape[0];
    const until = performance.now() + stepMs;
    while (performance.now() < until); // busy "training step"
  }
  const seconds = (performance.now() - t0) / 1000;
  await loader.close();
  emit({
    bench: 'imagefolder-cached-with-busy-consumer',
    stepMsPerBatch: stepMs,
    computeOnlySeconds: +((Math.ceil(n / 64) * stepMs) / 1000).toFixed(3),
    mode: loader.mode,
    workers: loader.workerCount,
    images: n,
    seconds: +seconds.toFixed(3),
    imagesPerSecond: Math.round(n / seconds),
  });
}
clearInterval(sampler);
emit({ bench: 'peak-rss', megabytes: Math.round(peakRss / 2 ** 20) });
if (!keep) rmSync(dir, { recursive: true, force: true });
else console.error(`kept ${dir}`);
