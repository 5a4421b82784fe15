import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { NetAugError, type Batch, type NetAugErrorCode } from '@netaug/core';
import type { WorkerInit, WorkerJob, WorkerReply } from './worker-protocol';

let bundledSource: string | undefined;

/**
 * How to start the worker: the built `prefetch-worker.js` next to this module (dist), or — when running
 * from TypeScript sources (jest, ts-node) — the `.ts` entry bundled on the fly with esbuild (a dev tool of
 * the monorepo; never used from the published package).
 */
function workerEntry(): { file: string } | { code: string } {
  const built = join(__dirname, 'prefetch-worker.js');
  if (existsSync(built)) return { file: built };
  const ts = join(__dirname, 'prefetch-worker.ts');
  if (!existsSync(ts))
    throw new NetAugError('INTERNAL', `prefetch worker script not found next to ${__dirname}`);
  if (!bundledSource) {
    const req = createRequire(ts);
    const esbuildName = 'esbuild';
    const esbuild = req(esbuildName) as typeof import('esbuild');
    const coreSrc = join(__dirname, '..', '..', 'core', 'src', 'index.ts');
    const out = esbuild.buildSync({
      entryPoints: [ts],
      bundle: true,
      write: false,
      platform: 'node',
      format: 'iife',
      target: 'node20',
      external: ['sharp'],
      alias: existsSync(coreSrc) ? { '@netaug/core': coreSrc } : {},
      logLevel: 'silent',
    });
    bundledSource = `(function (require) {\n${out.outputFiles![0].text}\n})(require('node:module').createRequire(${JSON.stringify(ts)}));`;
  }
  return { code: bundledSource };
}

interface Pending {
  resolve(b: Batch): void;
  reject(e: Error): void;
}

let liveThreads = 0;

/** Prefetch worker threads started and not yet exited, in this process (all pools). */
export function liveWorkerThreads(): number {
  return liveThreads;
}

/** A typed error for a worker that failed outside a job (e.g. while rebuilding the dataset at start). */
function workerFailure(e: Error & { code?: unknown; hint?: string; details?: Record<string, unknown> }) {
  const hint = typeof e.hint === 'string' ? e.hint : undefined;
  const message = hint && e.message.endsWith(hint) ? e.message.slice(0, -(hint.length + 3)) : e.message;
  return e.name === 'NetAugError' && typeof e.code === 'string'
    ? new NetAugError(e.code as NetAugErrorCode, `prefetch worker failed: ${message}`, {
        cause: e,
        hint,
        details: e.details,
      })
    : new NetAugError('INTERNAL', `prefetch worker crashed: ${e.message}`, { cause: e });
}

/**
 * A few worker threads that build batches. Jobs go to the least-busy worker; each worker is unref'd while
 * idle, so a loader that is never closed does not keep the process alive. When a worker dies (an error at
 * start or an exit), pending and later jobs fail with that error instead of waiting forever.
 */
export class PrefetchPool {
  private readonly workers: { worker: Worker; busy: number; stats?: Record<string, number> }[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;
  private failure?: NetAugError;
  private live = 0;

  constructor(
    init: WorkerInit,
    count: number,
    private readonly warn: (m: string) => void,
  ) {
    try {
      const entry = workerEntry();
      for (let i = 0; i < count; i++) {
        const worker =
          'file' in entry
            ? new Worker(entry.file, { workerData: init })
            : new Worker(entry.code, { eval: true, workerData: init });
        this.live++;
        liveThreads++;
        const slot = { worker, busy: 0, stats: undefined as Record<string, number> | undefined };
        this.workers.push(slot);
        worker.unref();
        worker.on('message', (msg: WorkerReply) => this.onMessage(slot, msg));
        worker.on('error', (e) => this.fail(workerFailure(e)));
        worker.on('exit', (code) => {
          this.live--;
          liveThreads--;
          if (!this.closed)
            this.fail(new NetAugError('INTERNAL', `prefetch worker exited with code ${code}`));
        });
      }
    } catch (e) {
      this.closed = true;
      for (const w of this.workers) void w.worker.terminate();
      throw e;
    }
  }

  /** Worker threads of this pool started and not yet exited. */
  get liveThreads(): number {
    return this.live;
  }

  /** Records the first failure of a worker and fails every pending job with it. */
  private fail(e: NetAugError): void {
    this.failure ??= e;
    this.failAll(this.failure);
  }

  /** Summed decode counters reported by the workers (file-backed datasets). */
  stats(): Record<string, number> {
    const sum: Record<string, number> = {};
    for (const w of this.workers)
      for (const [k, v] of Object.entries(w.stats ?? {})) sum[k] = (sum[k] ?? 0) + v;
    return sum;
  }

  /** Builds the batch of `indices` for `(seed, epoch)` in a worker. */
  run(seed: number, epoch: number, indices: Int32Array): Promise<Batch> {
    if (this.closed) return Promise.reject(new NetAugError('INVALID_ARGUMENT', 'loader is closed'));
    if (this.failure) return Promise.reject(this.failure);
    const slot = this.workers.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    const job: WorkerJob = { id, seed, epoch, indices };
    return new Promise<Batch>((resolve, reject) => {
      this.pending.set(id, {
        resolve: (b) => {
          if (--slot.busy === 0) slot.worker.unref();
          resolve(b);
        },
        reject: (e) => {
          if (--slot.busy === 0) slot.worker.unref();
          reject(e);
        },
      });
      if (slot.busy++ === 0) slot.worker.ref();
      slot.worker.postMessage(job);
    });
  }

  private onMessage(slot: { stats?: Record<string, number> }, msg: WorkerReply): void {
    if (msg.type === 'warn') {
      this.warn(msg.message);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.type === 'batch') {
      if (msg.stats) slot.stats = msg.stats;
      p.resolve(msg.batch);
    } else {
      const { code, message, hint, details } = msg.error;
      const err = code
        ? new NetAugError(
            code as NetAugErrorCode,
            hint && message.endsWith(hint) ? message.slice(0, -(hint.length + 3)) : message,
            { hint, details },
          )
        : new NetAugError('INTERNAL', `prefetch worker: ${message}`);
      p.reject(err);
    }
  }

  private failAll(e: Error): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(e);
    }
  }

  /** Terminates the workers; pending jobs fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new NetAugError('INVALID_ARGUMENT', 'loader closed while a batch was being prepared'));
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
