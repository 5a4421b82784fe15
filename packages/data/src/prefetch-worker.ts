/**
 * Entry point of a prefetch worker thread (started by {@link PrefetchPool}). It rebuilds the dataset and the
 * transform from their serialisable specs, then answers `{id, seed, epoch, indices}` jobs with batches built
 * by the same {@link assembleBatch} as the in-thread path, transferring the buffers back without copying.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { assembleBatch } from './batch';
import { datasetFromSpec } from './spec';
import { transformFromSpec } from './transforms/registry';
import type { WorkerInit, WorkerJob, WorkerReply } from './worker-protocol';

if (parentPort) {
  const port = parentPort;
  const init = workerData as WorkerInit;
  const dataset = datasetFromSpec(init.dataset, (message) =>
    port.postMessage({ type: 'warn', message } satisfies WorkerReply),
  );
  const transform = init.transform ? transformFromSpec(init.transform) : undefined;
  const statsOf = () =>
    (dataset as { stats?: Record<string, number> }).stats ??
    (dataset as { base?: { stats?: Record<string, number> } }).base?.stats;
  port.on('message', async (job: WorkerJob) => {
    try {
      const batch = await assembleBatch(dataset, transform, job.seed, job.epoch, job.indices, init.outShape);
      const stats = statsOf();
      const reply: WorkerReply = {
        type: 'batch',
        id: job.id,
        batch,
        stats: stats ? { ...stats } : undefined,
      };
      port.postMessage(reply, [batch.images.buffer as ArrayBuffer, batch.labels.buffer as ArrayBuffer]);
    } catch (e) {
      const err = e as Error & { code?: string; hint?: string; details?: Record<string, unknown> };
      port.postMessage({
        type: 'error',
        id: job.id,
        error: { name: err.name, code: err.code, message: err.message, hint: err.hint, details: err.details },
      } satisfies WorkerReply);
    }
  });
}
