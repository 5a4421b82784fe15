import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Batch } from '@netaug/core';
import { NetAugError } from '@netaug/core';
import { createLoader } from './loader';
import { MemoryDataset } from './memory-dataset';
import { subset } from './split';
import type { Transform } from './transforms/transform';
import { liveWorkerThreads, PrefetchPool } from './worker-pool';
import { loadImageFolder } from './readers/image-folder';
import { makeImageFolder } from './readers/test-images';
import { normalize, randomCrop, randomHorizontalFlip, randomResizedCrop } from './transforms';

/** 103 examples of 8×8×1 whose pixels encode the index, so batches are easy to check. */
function toyDataset(n = 103): MemoryDataset {
  const pixels = new Uint8Array(n * 64);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 5;
    for (let p = 0; p < 64; p++) pixels[i * 64 + p] = (i + p * 3) % 256;
  }
  return new MemoryDataset({ pixels, labels, shape: [8, 8, 1], classNames: ['a', 'b', 'c', 'd', 'e'] });
}

const augment = () => [randomCrop(8, { padding: 2 }), randomHorizontalFlip(), normalize([0.5], [0.25])];

async function take(it: AsyncIterable<Batch>, n = Infinity): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of it) {
    out.push(b);
    if (out.length >= n) break;
  }
  return out;
}

const same = (a: Batch[], b: Batch[]) => {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => {
    expect(x.shape).toEqual(b[i].shape);
    expect(Array.from(x.labels)).toEqual(Array.from(b[i].labels));
    expect(Buffer.from(x.images.buffer).equals(Buffer.from(b[i].images.buffer))).toBe(true);
  });
};

/** The first pixel identifies the example (before transforms): pixel 0 = index / 255. */
const indicesOf = (bs: Batch[]) =>
  bs.flatMap((b) => Array.from({ length: b.shape[0] }, (_, k) => Math.round(b.images[k * 64] * 255)));

describe('DatasetLoader', () => {
  it('every index exactly once per epoch, last batch smaller; dropLast drops it', async () => {
    const ds = toyDataset();
    const loader = createLoader(ds, { batchSize: 10, seed: 1 });
    expect(loader.mode).toBe('in-thread');
    expect(loader.batchesPerEpoch).toBe(11);
    const e0 = await take(loader);
    expect(e0.map((b) => b.shape[0])).toEqual([10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3]);
    const idx = indicesOf(e0);
    expect([...idx].sort((a, b) => a - b)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    e0.forEach((b) => b.labels.forEach((l, k) => expect(l).toBe(idx[e0.indexOf(b) * 10 + k] % 5)));
    expect(loader.getState()).toEqual({ epoch: 1, batch: 0, seed: 1 });
    const e1 = await take(loader);
    expect(indicesOf(e1)).not.toEqual(idx); // a different order in epoch 1
    const dl = createLoader(ds, { batchSize: 10, dropLast: true });
    expect(dl.batchesPerEpoch).toBe(10);
    expect((await take(dl)).length).toBe(10);
  });

  it('same seed → identical batches (with random transforms); different seed → different', async () => {
    const ds = toyDataset();
    const a = await take(createLoader(ds, { batchSize: 16, seed: 7, transform: augment() }));
    const b = await take(createLoader(ds, { batchSize: 16, seed: 7, transform: augment() }));
    same(a, b);
    const c = await take(createLoader(ds, { batchSize: 16, seed: 8, transform: augment() }));
    expect(Array.from(c[0].labels)).not.toEqual(Array.from(a[0].labels));
  });

  it('save state mid-epoch, restore in a new loader: the remaining batches equal the uninterrupted run', async () => {
    const ds = toyDataset();
    const opts = { batchSize: 8, seed: 42, transform: augment() };
    const full = createLoader(ds, opts);
    await take(full); // epoch 0
    const epoch1 = await take(full);
    const epoch2 = await take(full);

    const first = createLoader(ds, opts);
    await take(first);
    const head = await take(first, 5);
    const saved = JSON.parse(JSON.stringify(first.getState()));
    expect(saved).toEqual({ epoch: 1, batch: 5, seed: 42 });
    const resumed = createLoader(ds, opts);
    resumed.setState(saved);
    const tail = await take(resumed);
    same([...head, ...tail], epoch1);
    same(await take(resumed), epoch2);
  });

  it('worker prefetch gives exactly the in-thread batches (in-memory data shared via SharedArrayBuffer)', async () => {
    const ds = toyDataset();
    const opts = { batchSize: 12, seed: 3, transform: augment() };
    const inThread = createLoader(ds, { ...opts, workers: 0 });
    const worker = createLoader(ds, { ...opts, workers: 2, prefetch: 3 });
    expect(worker.mode).toBe('workers');
    try {
      same(await take(worker), await take(inThread));
      same(await take(worker), await take(inThread)); // epoch 1 (prefetched across the boundary)
      worker.setState({ epoch: 5, batch: 4, seed: 3 });
      inThread.setState({ epoch: 5, batch: 4, seed: 3 });
      same(await take(worker), await take(inThread));
    } finally {
      await worker.close();
    }
  });

  describe('file-backed (ImageFolder)', () => {
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'netaug-loader-'));
      await makeImageFolder(join(dir, 'data'), ['a', 'b', 'c'], 6);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('auto mode uses workers for files; worker batches equal in-thread; the cache is hit in the second epoch', async () => {
      const cacheDir = join(dir, 'cache');
      const ds = await loadImageFolder(join(dir, 'data'), { size: 24, cacheDir });
      const opts = { batchSize: 5, seed: 11, transform: [randomResizedCrop(16), randomHorizontalFlip()] };
      const auto = createLoader(ds, opts);
      expect(auto.mode).toBe('workers');
      await auto.close();
      const w = createLoader(ds, { ...opts, workers: 1, prefetch: 0 }); // no prefetch: exact counters
      try {
        const w0 = await take(w);
        expect(w.stats()).toMatchObject({ decoded: 18, cacheHits: 0 });
        const w1 = await take(w);
        expect(w.stats()).toMatchObject({ decoded: 18, cacheHits: 18 });
        const t = createLoader(ds, { ...opts, workers: 0 });
        expect(t.mode).toBe('in-thread');
        same(w0, await take(t));
        same(w1, await take(t));
        expect(w0[0].shape).toEqual([5, 16, 16, 3]);
      } finally {
        await w.close();
      }
    });

    it('skipCorrupt in workers: the corrupt file is replaced deterministically and counted', async () => {
      const { writeFileSync, readFileSync, cpSync } = await import('node:fs');
      const root = join(dir, 'skip');
      cpSync(join(dir, 'data'), root, { recursive: true });
      const f = join(root, 'a', 'img0.jpg');
      const ds = await loadImageFolder(root, {
        size: 12,
        cacheDir: false,
        skipCorrupt: true,
        warn: () => undefined,
      });
      writeFileSync(f, readFileSync(f).subarray(0, 40)); // corrupt after opening: found while decoding
      const w = createLoader(ds, { batchSize: 6, seed: 2, workers: 1, warn: () => undefined });
      const t = createLoader(ds, { batchSize: 6, seed: 2, workers: 0 });
      try {
        same(await take(w), await take(t));
        expect(w.stats().skipped).toBe(2); // once in the worker, once in-thread
      } finally {
        await w.close();
      }
    });

    it('errors in a worker arrive as typed errors naming the file', async () => {
      const { writeFileSync, readFileSync } = await import('node:fs');
      const f = join(dir, 'data', 'b', 'img2.jpg');
      const ds = await loadImageFolder(join(dir, 'data'), { size: 24, cacheDir: false });
      writeFileSync(f, readFileSync(f).subarray(0, 50));
      const w = createLoader(ds, { batchSize: 18, workers: 1 });
      try {
        await expect(take(w)).rejects.toMatchObject({
          code: 'DATA_FORMAT',
          message: expect.stringContaining(f),
        });
      } finally {
        await w.close();
      }
    });
  });

  describe('no hang, no leaked threads', () => {
    /** Rejects after `ms` so that a hang fails the test instead of timing out. */
    const within = <T>(p: Promise<T>, ms: number) =>
      Promise.race([
        p,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms),
        ),
      ]);
    /** A transform whose spec no worker can rebuild (a custom transform pretending to be built-in). */
    const unregistered = (): Transform => ({
      name: 'mine',
      spec: { name: 'mine' },
      outputShape: (s) => s,
      apply: (img) => img,
    });

    it('an empty dataset with workers: 1 → typed error naming its source, no worker thread left', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'netaug-loader-empty-'));
      try {
        await makeImageFolder(join(dir, 'data'), ['a', 'b'], 1);
        const ds = await loadImageFolder(join(dir, 'data'), { size: 8, cacheDir: false });
        const empty = subset(ds, 0);
        let error: NetAugError | undefined;
        try {
          createLoader(empty, { batchSize: 4, workers: 1 });
        } catch (e) {
          error = e as NetAugError;
        }
        expect(error).toBeInstanceOf(NetAugError);
        expect(error!.code).toBe('INVALID_ARGUMENT');
        expect(error!.message).toContain(
          `cannot load batches of an empty dataset (0 examples from ${join(dir, 'data')})`,
        );
        expect(liveWorkerThreads()).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a transform spec no worker can rebuild → INVALID_ARGUMENT at createLoader (forced workers), in-thread with auto', async () => {
      const ds = toyDataset(8);
      expect(() => createLoader(ds, { batchSize: 4, workers: 1, transform: unregistered() })).toThrow(
        expect.objectContaining({
          code: 'INVALID_ARGUMENT',
          message: expect.stringContaining(
            'worker prefetch needs a dataset with workerSpec() and built-in transforms: the transform spec cannot be rebuilt (Unknown transform "mine"',
          ),
        }),
      );
      expect(liveWorkerThreads()).toBe(0);
      const auto = createLoader(ds, { batchSize: 4, transform: unregistered() });
      expect(auto.mode).toBe('in-thread');
      expect((await take(auto)).length).toBe(2);
    });

    it('a worker that dies at start fails its jobs with its typed error instead of hanging', async () => {
      const spec = toyDataset(8).workerSpec();
      const pool = new PrefetchPool(
        { dataset: spec, transform: { name: 'mine' }, outShape: [8, 8, 1] },
        1,
        () => undefined,
      );
      try {
        const e = await within(
          pool.run(0, 0, Int32Array.from([0, 1])).then(
            () => null,
            (x: NetAugError) => x,
          ),
          20000,
        );
        expect(e).toBeInstanceOf(NetAugError);
        expect(e!.code).toBe('INVALID_ARGUMENT');
        expect(e!.message).toContain('prefetch worker failed: Unknown transform "mine"');
        // later jobs fail at once, too
        await expect(within(pool.run(0, 0, Int32Array.from([2])), 1000)).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
        });
      } finally {
        await pool.close();
      }
      expect(pool.liveThreads).toBe(0);
      expect(liveWorkerThreads()).toBe(0);
    });

    it('close() stops every worker thread', async () => {
      const loader = createLoader(toyDataset(), { batchSize: 10, workers: 2 });
      expect(loader.liveThreads).toBe(2);
      await take(loader, 1);
      await loader.close();
      expect(loader.liveThreads).toBe(0);
      expect(liveWorkerThreads()).toBe(0);
    });
  });
});
