import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { round } from './stats';

/** Settings of `netaug bench data`. */
export interface DataBenchSettings {
  /** JPEGs generated for the ImageFolder measurement. */
  images: number;
  /** Loader workers (`auto` = the loader's default). */
  workers: number | 'auto';
  /** Folder holding the IDX files (default: the loader's lookup: $NETAUG_DATA, Debian path, embedded subset). */
  dataDir?: string;
  /** Training-step images/s to print next to the loader figures. */
  stepImagesPerSec?: number;
  /** Keep the generated folder. */
  keep?: boolean;
}

/** One printed measurement of `netaug bench data`. */
export interface DataRecord {
  bench: 'data';
  dataset: string;
  source?: string;
  epoch: 1 | 2;
  shape: [number, number, number];
  batch: number;
  transform: string;
  mode: string;
  workers: number;
  images: number;
  seconds: number;
  imagesPerSec: number;
  openSeconds?: number;
  stepImagesPerSec?: number;
  /** imagesPerSec / stepImagesPerSec: above 1, the loader outruns the step. */
  loaderToStepRatio?: number;
}

interface Loader extends AsyncIterable<{ shape: number[] }> {
  mode: string;
  workerCount: number;
  close(): Promise<void>;
}

async function epoch(loader: Loader): Promise<{ images: number; seconds: number }> {
  const t0 = performance.now();
  let n = 0;
  for await (const b of loader) n += b.shape[0];
  return { images: n, seconds: (performance.now() - t0) / 1000 };
}

/** Writes `n` JPEGs of mixed sizes (200–639 × 150–479) into `root/c0..c4` (as packages/data/bench/data.mjs). */
export async function generateJpegFolder(root: string, n: number): Promise<void> {
  const { loadSharp } = await import('@netaug/data');
  const sharp = await loadSharp('the image-folder benchmark');
  const classes = ['c0', 'c1', 'c2', 'c3', 'c4'];
  for (let i = 0; i < n; i++) {
    const w = 200 + ((i * 97) % 440);
    const h = 150 + ((i * 53) % 330);
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
}

/**
 * Data-pipeline throughput through the @netaug/data API: IDX Fashion-MNIST (batch 128, random crop pad 2 + flip)
 * and an ImageFolder of generated JPEGs decoded to 160 px, random-resized-crop 144 + flip (batch 64), first
 * epoch (decode) and second epoch (decoded-tensor cache). Calls `emit` once per measurement.
 */
export async function runDataBench(s: DataBenchSettings, emit: (r: DataRecord) => void): Promise<void> {
  const data = await import('@netaug/data');
  const withStep = (r: DataRecord): DataRecord =>
    s.stepImagesPerSec
      ? {
          ...r,
          stepImagesPerSec: s.stepImagesPerSec,
          loaderToStepRatio: round(r.imagesPerSec / s.stepImagesPerSec, 2),
        }
      : r;

  // --- IDX -------------------------------------------------------------------------------------------------
  const fm = await data.loadBuiltin('fashion-mnist', {
    split: 'train',
    ...(s.dataDir ? { dataDir: s.dataDir } : {}),
  });
  const idxLoader = data.createLoader(fm, {
    batchSize: 128,
    seed: 0,
    transform: [data.randomCrop(28, { padding: 2 }), data.randomHorizontalFlip()],
    workers: s.workers,
  }) as unknown as Loader;
  try {
    for (const e of [1, 2] as const) {
      const r = await epoch(idxLoader);
      emit(
        withStep({
          bench: 'data',
          dataset: 'idx-fashion-mnist',
          source: `${fm.sourceKind}:${fm.sourceDir}`,
          epoch: e,
          shape: [28, 28, 1],
          batch: 128,
          transform: 'randomCrop(28, pad 2)+flip',
          mode: idxLoader.mode,
          workers: idxLoader.workerCount,
          images: r.images,
          seconds: round(r.seconds, 3),
          imagesPerSec: Math.round(r.images / r.seconds),
        }),
      );
    }
  } finally {
    await idxLoader.close();
  }

  // --- ImageFolder -----------------------------------------------------------------------------------------
  const dir = mkdtempSync(join(tmpdir(), 'netaug-bench-data-'));
  try {
    const root = join(dir, 'images');
    await generateJpegFolder(root, s.images);
    const t0 = performance.now();
    const ds = await data.loadImageFolder(root, { size: 160, cacheDir: join(dir, 'cache') });
    const openSeconds = (performance.now() - t0) / 1000;
    const loader = data.createLoader(ds, {
      batchSize: 64,
      seed: 0,
      transform: [data.randomResizedCrop(144), data.randomHorizontalFlip()],
      workers: s.workers,
    }) as unknown as Loader;
    try {
      for (const e of [1, 2] as const) {
        const r = await epoch(loader);
        emit(
          withStep({
            bench: 'data',
            dataset: `imagefolder-${s.images}-jpeg`,
            epoch: e,
            shape: [144, 144, 3],
            batch: 64,
            transform: `decode 160 + randomResizedCrop(144)+flip${e === 1 ? ' (decode)' : ' (cache)'}`,
            mode: loader.mode,
            workers: loader.workerCount,
            images: r.images,
            seconds: round(r.seconds, 3),
            imagesPerSec: Math.round(r.images / r.seconds),
            ...(e === 1 ? { openSeconds: round(openSeconds, 3) } : {}),
          }),
        );
      }
    } finally {
      await loader.close();
    }
  } finally {
    if (!s.keep) rmSync(dir, { recursive: true, force: true });
  }
}
