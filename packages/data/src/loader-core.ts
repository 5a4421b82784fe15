import {
  NetAugError,
  type Batch,
  type DataLoader,
  type Dataset,
  type LoaderState,
  type Shape3,
} from '@netaug/core';
import { assembleBatch } from './batch';
import { deriveRng, STREAM_PERMUTATION } from './seed';
import { compose } from './transforms/compose';
import { transformFromSpec } from './transforms/registry';
import type { Transform } from './transforms/transform';
import type { LabeledDataset } from './types';
import type { WorkerInit } from './worker-protocol';

/** A prefetch pool as the loader uses it (Node: worker threads, see `worker-pool.ts`). */
export interface LoaderPool {
  run(seed: number, epoch: number, indices: Int32Array): Promise<Batch>;
  readonly liveThreads: number;
  stats(): Record<string, number>;
  close(): Promise<void>;
}

/** What a loader needs from its platform: the number of cores and, where there are threads, a worker pool. */
export interface LoaderPlatform {
  parallelism(): number;
  /** Starts `workers` threads building batches; absent where there are none (browsers). */
  createPool?(init: WorkerInit, workers: number, warn: (message: string) => void): LoaderPool;
  /** Why there are no workers (for the error of `workers > 0`). */
  noWorkers?: string;
}

/** Options of {@link createLoader}. */
export interface LoaderOptions {
  batchSize: number;
  /** Shuffle every epoch (default true). Epoch `e`'s order is a pure function of `(seed, e)`. */
  shuffle?: boolean;
  /** Drop the last incomplete batch (default false: the last batch may be smaller). */
  dropLast?: boolean;
  /** Seed of shuffling and of random transforms (default 0). */
  seed?: number;
  /** Transform(s) applied to each sample, with a generator derived from `(seed, epoch, index)`. */
  transform?: Transform | Transform[];
  /**
   * Worker threads that build batches: `'auto'` (default) uses `min(4, cores − 1)` (at least 1) workers for
   * file-backed datasets (decoding dominates) and none for in-memory ones (workers would only add copying);
   * `0` builds batches in the calling thread; `n > 0` forces `n` workers (needs a dataset with `workerSpec`
   * and built-in transforms).
   */
  workers?: number | 'auto';
  /**
   * Batches prepared ahead (default `2 × workers`, at least 2). In-thread, prefetching only applies to
   * async (file-backed) datasets, whose decoding runs on libuv threads. Memory is bounded by
   * `(prefetch + 1) × batch bytes`.
   */
  prefetch?: number;
  /** Where warnings go (default `console.warn`). */
  warn?: (message: string) => void;
}

/**
 * The loader of {@link DatasetLoader} with its platform (threads or not) passed in: `DatasetLoader` of the Node
 * entry uses worker threads, that of the browser entry builds batches in the calling thread.
 *
 * A resumable, seeded {@link DataLoader}. Iterating yields the remaining batches of the current epoch and
 * moves to the next. Every batch is a pure function of `(seed, epoch, batch index)`: `getState()` saved
 * mid-epoch and restored with `setState()` on a new loader reproduces the exact remaining batches (pixels
 * and labels, random transforms included), in-thread or with workers alike.
 */
export class DatasetLoaderCore implements DataLoader {
  readonly batchSize: number;
  readonly batchesPerEpoch: number;
  /** `[H, W, C]` of the images in a batch (after transforms). */
  readonly outputShape: Shape3;
  /** Whether batches are built by worker threads or in the calling thread. */
  readonly mode: 'workers' | 'in-thread';
  readonly workerCount: number;
  readonly prefetch: number;
  private readonly shuffle: boolean;
  private readonly transform?: Transform;
  private state: { epoch: number; batch: number; seed: number };
  private readonly pending = new Map<string, Promise<Batch>>();
  private readonly perms = new Map<string, Int32Array>();
  private pool?: LoaderPool;
  private closed = false;
  private readonly warn: (m: string) => void;

  constructor(
    readonly dataset: Dataset,
    options: LoaderOptions,
    platform: LoaderPlatform,
  ) {
    const bs = options.batchSize;
    if (!Number.isInteger(bs) || bs <= 0)
      throw new NetAugError('INVALID_ARGUMENT', `batchSize must be a positive integer, got ${bs}`);
    if (!(dataset.size > 0)) {
      const source = (dataset as Partial<LabeledDataset>).source;
      throw new NetAugError(
        'INVALID_ARGUMENT',
        `cannot load batches of an empty dataset (0 examples${source ? ` from ${source}` : ''})`,
        {
          hint: 'check the data and the subset size or valFraction that selected it',
          details: source ? { file: source } : undefined,
        },
      );
    }
    const seed = options.seed ?? 0;
    if (!Number.isFinite(seed))
      throw new NetAugError('INVALID_ARGUMENT', `seed must be a finite number, got ${seed}`);
    this.batchSize = bs;
    this.shuffle = options.shuffle ?? true;
    this.batchesPerEpoch = options.dropLast ? Math.floor(dataset.size / bs) : Math.ceil(dataset.size / bs);
    if (this.batchesPerEpoch === 0) {
      throw new NetAugError(
        'INVALID_ARGUMENT',
        `dropLast with batchSize ${bs} > dataset size ${dataset.size} leaves no batch`,
      );
    }
    const t = options.transform;
    this.transform = Array.isArray(t) ? (t.length ? compose(t) : undefined) : t;
    this.outputShape = this.transform ? this.transform.outputShape(dataset.shape) : dataset.shape;
    this.state = { epoch: 0, batch: 0, seed };
    this.warn = options.warn ?? ((m) => console.warn(`[netaug/data] ${m}`));

    const ds = dataset as Partial<LabeledDataset>;
    const spec = ds.workerSpec?.();
    let notPortable =
      spec === undefined
        ? 'the dataset has no workerSpec()'
        : this.transform && this.transform.spec === undefined
          ? 'a custom transform has no spec'
          : undefined;
    if (!notPortable && this.transform?.spec) {
      try {
        transformFromSpec(this.transform.spec); // what a worker will do: fail here rather than in the worker
      } catch (e) {
        notPortable = `the transform spec cannot be rebuilt (${(e as Error).message})`;
      }
    }
    const portable = !notPortable;
    let workers = options.workers ?? 'auto';
    if (workers === 'auto')
      workers = portable && ds.inMemory === false ? Math.max(1, Math.min(4, platform.parallelism() - 1)) : 0;
    if (!Number.isInteger(workers) || workers < 0)
      throw new NetAugError('INVALID_ARGUMENT', `workers must be 'auto' or an integer ≥ 0, got ${workers}`);
    if (workers > 0 && !platform.createPool) {
      throw new NetAugError(
        'INVALID_ARGUMENT',
        `workers: ${workers} — ${platform.noWorkers ?? 'no worker threads here'}`,
        {
          hint: 'use workers: 0 (batches are then built in the calling thread)',
        },
      );
    }
    if (workers > 0 && !portable) {
      throw new NetAugError(
        'INVALID_ARGUMENT',
        `worker prefetch needs a dataset with workerSpec() and built-in transforms: ${notPortable}`,
        {
          hint: 'use workers: 0, or transforms from @netaug/data (custom ones have no spec to rebuild in a worker)',
        },
      );
    }
    const prefetch = options.prefetch;
    if (prefetch !== undefined && !(Number.isInteger(prefetch) && prefetch >= 0))
      throw new NetAugError('INVALID_ARGUMENT', `prefetch must be an integer ≥ 0, got ${prefetch}`);
    this.workerCount = workers;
    this.mode = workers > 0 ? 'workers' : 'in-thread';
    const asyncData = ds.inMemory === false;
    this.prefetch = prefetch ?? (workers > 0 ? Math.max(2, 2 * workers) : asyncData ? 2 : 0);
    // Last: nothing may throw after the threads start (they would outlive a loader nobody can close).
    if (workers > 0) {
      this.pool = platform.createPool!(
        { dataset: spec!, transform: this.transform?.spec, outShape: this.outputShape },
        workers,
        this.warn,
      );
    }
  }

  /** Worker threads of this loader started and not yet exited (0 in-thread and after `close()`). */
  get liveThreads(): number {
    return this.pool?.liveThreads ?? 0;
  }

  /** The dataset order of epoch `epoch` (identity without shuffling). */
  order(epoch: number, seed = this.state.seed): Int32Array {
    const key = `${seed}:${epoch}`;
    let p = this.perms.get(key);
    if (!p) {
      p = this.shuffle
        ? deriveRng(seed, STREAM_PERMUTATION, epoch).permutation(this.dataset.size)
        : Int32Array.from({ length: this.dataset.size }, (_, i) => i);
      if (this.perms.size >= 2) this.perms.delete(this.perms.keys().next().value!);
      this.perms.set(key, p);
    }
    return p;
  }

  /** Dataset indices of batch `batch` of epoch `epoch`. */
  batchIndices(epoch: number, batch: number): Int32Array {
    const start = batch * this.batchSize;
    return this.order(epoch).slice(start, Math.min(start + this.batchSize, this.dataset.size));
  }

  private produce(epoch: number, batch: number): Promise<Batch> {
    const indices = this.batchIndices(epoch, batch);
    const seed = this.state.seed;
    const p = this.pool
      ? this.pool.run(seed, epoch, indices)
      : assembleBatch(this.dataset, this.transform, seed, epoch, indices, this.outputShape);
    p.catch(() => undefined); // a failed prefetch surfaces when (and if) its batch is taken
    return p;
  }

  /** Schedules the batches at positions `(epoch, batch)` and up to `prefetch` after it; drops stale ones. */
  private fill(epoch: number, batch: number): void {
    const want = new Set<string>();
    let e = epoch;
    let b = batch;
    for (let k = 0; k <= this.prefetch; k++) {
      const key = `${this.state.seed}:${e}:${b}`;
      want.add(key);
      if (!this.pending.has(key) && (k === 0 || this.prefetch > 0)) this.pending.set(key, this.produce(e, b));
      if (++b >= this.batchesPerEpoch) {
        e++;
        b = 0;
      }
    }
    for (const key of this.pending.keys()) if (!want.has(key)) this.pending.delete(key);
  }

  /** Builds the batch `(epoch, batch)` now (ignores the position; does not move it). */
  async batchAt(epoch: number, batch: number): Promise<Batch> {
    if (!(batch >= 0 && batch < this.batchesPerEpoch))
      throw new NetAugError('INVALID_ARGUMENT', `batch ${batch} out of range [0, ${this.batchesPerEpoch})`);
    return this.produce(epoch, batch);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    if (this.closed) throw new NetAugError('INVALID_ARGUMENT', 'loader is closed');
    const epoch = this.state.epoch;
    while (this.state.epoch === epoch) {
      const { batch, seed } = this.state;
      this.fill(epoch, batch);
      const key = `${seed}:${epoch}:${batch}`;
      const p = this.pending.get(key)!;
      const result = await p;
      this.pending.delete(key);
      if (this.state.epoch !== epoch || this.state.batch !== batch || this.state.seed !== seed) continue; // setState meanwhile
      this.state =
        batch + 1 >= this.batchesPerEpoch
          ? { epoch: epoch + 1, batch: 0, seed }
          : { epoch, batch: batch + 1, seed };
      yield result;
    }
  }

  /** The position of the next batch to be yielded (a plain JSON value). */
  getState(): LoaderState {
    return { ...this.state };
  }

  /** Moves to a saved position; the next batch yielded is exactly the one the saving loader would have yielded. */
  setState(state: LoaderState): void {
    const { epoch, batch, seed } = state ?? ({} as LoaderState);
    if (
      !Number.isInteger(epoch) ||
      epoch < 0 ||
      !Number.isInteger(batch) ||
      batch < 0 ||
      !Number.isFinite(seed)
    ) {
      throw new NetAugError('INVALID_ARGUMENT', `Not a loader state: ${JSON.stringify(state)}`, {
        hint: 'pass a value returned by getState()',
      });
    }
    if (batch > this.batchesPerEpoch) {
      throw new NetAugError(
        'INVALID_ARGUMENT',
        `state batch ${batch} beyond ${this.batchesPerEpoch} batches per epoch`,
        {
          hint: 'restore with the same dataset, batchSize and dropLast',
        },
      );
    }
    this.state =
      batch === this.batchesPerEpoch ? { epoch: epoch + 1, batch: 0, seed } : { epoch, batch, seed };
  }

  /** Decode counters of a file-backed dataset (summed over workers): `decoded`, `cacheHits`, `skipped`. */
  stats(): Record<string, number> {
    const local =
      (this.dataset as { stats?: Record<string, number> }).stats ??
      (this.dataset as { base?: { stats?: Record<string, number> } }).base?.stats ??
      {};
    const sum: Record<string, number> = { ...local };
    for (const [k, v] of Object.entries(this.pool?.stats() ?? {})) sum[k] = (sum[k] ?? 0) + v;
    return sum;
  }

  /** Stops the workers and drops prefetched batches. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.pending.clear();
    await this.pool?.close();
  }
}
