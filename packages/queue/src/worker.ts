import { NetAugError } from '@netaug/core';
import { type Job, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type Redis from 'ioredis';
import { hostname } from 'node:os';
import { type CellJobData, QUEUE_PREFIX, queueNameOf, readCell } from './cells';
import { isPermanentError, messageOf } from './errors';
import { createRedisClient, formatSeconds, isConnectionError, waitForRedis } from './redis';
import { type QueueUrl, scrub, secretOf } from './url';

/**
 * How long a worker's lock on a running job lasts without renewal (ms). The worker renews it every
 * lockDuration / 2 (15 s); a worker that dies stops renewing, and the lock is gone 15–30 s later.
 */
export const DEFAULT_LOCK_DURATION_MS = 30_000;
/**
 * How often the live workers look for jobs whose lock is gone (ms). A job is handed to another worker at the
 * first check after its lock expired: at most lockDuration + stalledInterval = 45 s after its worker died.
 */
export const DEFAULT_STALLED_INTERVAL_MS = 15_000;
/** How often a job may lose its worker and still be handed on: two lost workers in a row; the third fails it. */
export const DEFAULT_MAX_STALLED_COUNT = 2;

/** Progress a handler reports (shown by {@link queueStatus}). */
export interface CellProgress {
  epoch: number;
  epochs: number;
}

/** What a handler gets next to the cell. */
export interface CellJobContext {
  /** This try, counted from 1 (a try lost with its worker does not count). */
  attempt: number;
  /** Tries the job has in all. */
  attempts: number;
  /** Name of this worker. */
  workerName: string;
  /**
   * Aborted when this worker must stop the cell: it lost the job's lock (another worker may take the job
   * over), or `close({ abort: true })` was called. The handler should stop its work (kill its child process)
   * and return or throw.
   */
  signal: AbortSignal;
  /** Stores progress on the job (never rejects; a failure is reported through `onEvent`). */
  progress(p: CellProgress): Promise<void>;
}

/**
 * Runs one cell. Resolve when the run is finished; throw {@link PermanentError} for a failure a retry cannot
 * fix, anything else to have it retried. It must keep the event loop free (await a child process or worker
 * thread): the job's lock is renewed on this event loop, and a loop blocked for longer than about half the
 * lockDuration (15 s by default) lets another worker take the job over as stalled.
 */
export type CellHandler = (cell: CellJobData, ctx: CellJobContext) => Promise<unknown>;

export interface WorkerOptions {
  /** Cells this worker runs at once (default 1). */
  concurrency?: number;
  /** Shown in status as the cell's worker (default `worker-<hostname>-<pid>`). */
  name?: string;
  /** One line per event: cell started / completed / failed / retried / stalled, Redis down and back. */
  onEvent?: (line: string) => void;
  /** See {@link DEFAULT_LOCK_DURATION_MS} (ms). */
  lockDuration?: number;
  /** See {@link DEFAULT_STALLED_INTERVAL_MS} (ms). */
  stalledInterval?: number;
  /** See {@link DEFAULT_MAX_STALLED_COUNT}. */
  maxStalledCount?: number;
}

export interface QueueWorker {
  readonly name: string;
  /**
   * Resolves once the worker is connected and taking jobs (it waits for Redis as long as needed, telling
   * `onEvent`). Rejects with `INVALID_CONFIG` when Redis refuses the credentials.
   */
  ready(): Promise<void>;
  /**
   * Stops taking jobs and closes the connections. By default waits until the running handlers have finished
   * (their jobs complete or fail normally). With `abort: true` it aborts the handlers' `ctx.signal`, waits for
   * them to return, and puts their jobs back in the queue as waiting — no try is counted, no stall — so
   * another worker starts them again (from their checkpoint, if the handler resumes).
   */
  close(options?: { abort?: boolean }): Promise<void>;
}

function checkInt(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) {
    throw new NetAugError('INVALID_ARGUMENT', `${name} must be an integer ≥ ${min}, got ${String(v)}`);
  }
  return v;
}

/**
 * Starts a worker that takes the study's cells from the queue and runs `handler` on each (returns at once; see
 * {@link QueueWorker.ready}). Any number of workers on any machines may serve one study.
 */
export function startWorker(
  q: QueueUrl,
  study: string,
  handler: CellHandler,
  options: WorkerOptions = {},
): QueueWorker {
  secretOf(q);
  const queueName = queueNameOf(study);
  if (typeof handler !== 'function')
    throw new NetAugError('INVALID_ARGUMENT', 'the handler must be a function');
  const concurrency = checkInt('concurrency', options.concurrency ?? 1, 1);
  const lockDuration = checkInt('lockDuration', options.lockDuration ?? DEFAULT_LOCK_DURATION_MS, 1000);
  const stalledInterval = checkInt(
    'stalledInterval',
    options.stalledInterval ?? DEFAULT_STALLED_INTERVAL_MS,
    100,
  );
  const maxStalledCount = checkInt(
    'maxStalledCount',
    options.maxStalledCount ?? DEFAULT_MAX_STALLED_COUNT,
    0,
  );
  const name = options.name ?? `worker-${hostname()}-${process.pid}`;
  if (typeof name !== 'string' || name === '') {
    throw new NetAugError('INVALID_ARGUMENT', 'the worker name must be a non-empty string');
  }
  const say = (line: string) => {
    try {
      options.onEvent?.(scrub(line, q));
    } catch {
      // a failing reporter does not stop the worker
    }
  };
  const label = (cell: CellJobData) => `${study}/${cell.cellId}`;

  let closing = false;
  const waitAbort = new AbortController();
  let client: Redis | undefined;
  let worker: Worker<CellJobData> | undefined;
  /** Jobs to put back in the queue when their handler returns (close with abort). */
  const releasing = new Set<string>();
  const running = new Set<string>();

  const processor = async (job: Job<CellJobData>, token?: string, signal?: AbortSignal): Promise<void> => {
    const id = job.id ?? '';
    const cell = readCell(job.data, id);
    const ctx: CellJobContext = {
      attempt: job.attemptsMade + 1,
      attempts: job.opts.attempts ?? 1,
      workerName: name,
      signal: signal ?? new AbortController().signal,
      progress: async (p: CellProgress) => {
        if (!p || !Number.isFinite(p.epoch) || !Number.isFinite(p.epochs)) {
          say(`${label(cell)}: progress ignored (it needs numbers epoch and epochs)`);
          return;
        }
        try {
          await job.updateProgress({ epoch: p.epoch, epochs: p.epochs });
        } catch (e) {
          say(`${label(cell)}: could not store progress (${messageOf(e)})`);
        }
      },
    };
    running.add(id);
    try {
      await handler(cell, ctx);
    } catch (e) {
      if (releasing.has(id)) {
        await job.moveToWait(token);
        say(`${label(cell)} put back in the queue (worker ${name} is closing)`);
        throw new WaitingError();
      }
      const msg = scrub(messageOf(e), q);
      if (isPermanentError(e)) throw new UnrecoverableError(msg);
      throw new Error(msg);
    } finally {
      running.delete(id);
      releasing.delete(id);
    }
  };

  const attach = (w: Worker<CellJobData>) => {
    w.on('active', (job) => {
      const cell = readCell(job.data, job.id ?? '');
      say(`${label(cell)} started on ${name} (try ${job.attemptsMade + 1} of ${job.opts.attempts ?? 1})`);
    });
    w.on('completed', (job) => {
      const cell = readCell(job.data, job.id ?? '');
      const took = job.processedOn ? ` in ${formatSeconds(Date.now() - job.processedOn)}` : '';
      say(`${label(cell)} completed on ${name}${took}`);
    });
    w.on('failed', (job, err) => {
      if (!job) return;
      const cell = readCell(job.data, job.id ?? '');
      const attempts = job.opts.attempts ?? 1;
      const final = err.name === 'UnrecoverableError' || job.attemptsMade >= attempts;
      if (final) {
        say(
          `${label(cell)} failed on ${name} after ${job.attemptsMade} of ${attempts} tries: ${err.message}`,
        );
      } else {
        const backoff = job.opts.backoff;
        const base = typeof backoff === 'number' ? backoff : (backoff?.delay ?? 0);
        const delay = base * 2 ** Math.max(0, job.attemptsMade - 1);
        say(
          `${label(cell)} failed on ${name} (try ${job.attemptsMade} of ${attempts}): ${err.message}; ` +
            `retrying in ${formatSeconds(delay)}`,
        );
      }
    });
    w.on('stalled', (jobId) => {
      say(
        `job ${jobId} of ${study} stalled (its worker stopped renewing the lock): back in the queue ` +
          `(at most ${maxStalledCount} stall${maxStalledCount === 1 ? '' : 's'} per job)`,
      );
    });
    w.on('lockRenewalFailed', (jobIds) => {
      for (const jobId of jobIds) {
        say(`${name} lost the lock of job ${jobId}: another worker may take it over; aborting its handler`);
        w.cancelJob(jobId, 'lost the job lock');
      }
    });
    w.on('error', (err) => {
      if (isConnectionError(err)) return; // told by the client's reconnect lines
      say(`worker ${name}: ${messageOf(err)}`);
    });
  };

  // The lock is renewed on this event loop: warn when it was blocked long enough to risk a false stall.
  let lastTick = Date.now();
  const loopWatch = setInterval(() => {
    const now = Date.now();
    const blocked = now - lastTick - 1000;
    lastTick = now;
    if (running.size > 0 && blocked > lockDuration / 4) {
      say(
        `${name}: the event loop was blocked for ${formatSeconds(blocked)}; a block longer than ` +
          `${formatSeconds(lockDuration / 2)} lets another worker take the job over (keep the handler's work ` +
          `in a child process or worker thread)`,
      );
    }
  }, 1000);
  loopWatch.unref();

  const started = (async () => {
    await waitForRedis(q, { onWait: say, signal: waitAbort.signal });
    if (closing) return;
    client = createRedisClient(q, say);
    worker = new Worker<CellJobData>(queueName, processor, {
      connection: client,
      prefix: QUEUE_PREFIX,
      name,
      concurrency,
      lockDuration,
      stalledInterval,
      maxStalledCount,
      autorun: true,
    });
    attach(worker);
    await worker.waitUntilReady();
    say(
      `worker ${name} takes cells of ${study} from ${q.redacted} (concurrency ${concurrency}, ` +
        `lock ${formatSeconds(lockDuration)}, stall check every ${formatSeconds(stalledInterval)}, ` +
        `max ${maxStalledCount} stalls)`,
    );
  })();
  started.catch((e) => {
    if (!closing) say(`worker ${name} could not start: ${messageOf(e)}`);
  });

  let closed: Promise<void> | undefined;
  return {
    name,
    ready: () => started,
    close(closeOptions: { abort?: boolean } = {}) {
      if (closed) return closed;
      closing = true;
      closed = (async () => {
        waitAbort.abort();
        await started.catch(() => undefined);
        try {
          if (worker) {
            if (closeOptions.abort) {
              for (const id of running) {
                releasing.add(id);
                worker.cancelJob(id, `worker ${name} is closing`);
              }
            }
            await worker.close();
          }
        } finally {
          clearInterval(loopWatch);
          client?.disconnect();
        }
        say(`worker ${name} closed`);
      })();
      return closed;
    },
  };
}
