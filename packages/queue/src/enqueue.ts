import { NetAugError } from '@netaug/core';
import { Queue } from 'bullmq';
import {
  CELL_JOB_NAME,
  type CellInput,
  type CellJobData,
  QUEUE_PREFIX,
  cellJobData,
  queueNameOf,
} from './cells';
import { createRedisClient, waitForRedis } from './redis';
import { type QueueUrl, scrub } from './url';

/** Tries of a job by default (the first run and two retries). */
export const DEFAULT_ATTEMPTS = 3;
/** First retry delay by default (ms); it doubles on each retry: 5 s, 10 s, 20 s, … */
export const DEFAULT_BACKOFF_MS = 5000;

export interface EnqueueOptions {
  /** Tries of each job: a failing handler is retried until it has run this often (default 3). */
  attempts?: number;
  /** First retry delay (ms, default 5000), doubled on each further retry. */
  backoffMs?: number;
  /**
   * True when the cell's run is finished on storage. Asked only for a cell the queue does not hold (or a failed
   * one about to be retried): such a cell is not enqueued (`skippedDone`).
   */
  isDone?: (cell: CellJobData) => boolean | Promise<boolean>;
  /** Re-enqueue cells whose job failed (fresh attempts); by default they stay failed (`existing`). */
  retryFailed?: boolean;
  /** Told while Redis is not reachable (see {@link waitForRedis}). */
  onWait?: (message: string) => void;
  /** Give up waiting for Redis after this long (ms, default: wait forever). */
  maxWaitMs?: number;
}

/** Cell ids, each in exactly one list. */
export interface EnqueueResult {
  /** New jobs. */
  added: string[];
  /** Failed jobs put back in the queue (`retryFailed`). */
  retried: string[];
  /** Jobs the queue already holds, in any state (waiting, active, completed, failed, …): left alone. */
  existing: string[];
  /** Not in the queue and finished on storage (`isDone`): not enqueued. */
  skippedDone: string[];
}

function positiveInt(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) {
    throw new NetAugError('INVALID_ARGUMENT', `${name} must be an integer ≥ ${min}, got ${String(v)}`);
  }
  return v;
}

/**
 * Puts one job per cell on the study's queue, job id = the cell's hash. Idempotent: a job the queue holds is
 * not added again (`existing`), so enqueuing a study twice, or from two machines, runs each cell once. Waits
 * for Redis first (`onWait`, `maxWaitMs`). Throws `INVALID_ARGUMENT` for a bad cell (before anything is
 * written), `INVALID_CONFIG` when Redis refuses the credentials, `IO` when it cannot be reached in time.
 */
export async function enqueueCells(
  q: QueueUrl,
  study: string,
  cells: readonly CellInput[],
  options: EnqueueOptions = {},
): Promise<EnqueueResult> {
  const name = queueNameOf(study);
  const attempts = positiveInt('attempts', options.attempts ?? DEFAULT_ATTEMPTS, 1);
  const backoffMs = positiveInt('backoffMs', options.backoffMs ?? DEFAULT_BACKOFF_MS, 0);
  if (!Array.isArray(cells)) throw new NetAugError('INVALID_ARGUMENT', 'cells must be an array');
  const datas = cells.map((c, i) => cellJobData(q, study, c, i));
  const byHash = new Map<string, string>();
  for (const d of datas) {
    const other = byHash.get(d.hash);
    if (other !== undefined) {
      throw new NetAugError(
        'INVALID_ARGUMENT',
        `cells '${other}' and '${d.cellId}' have the same hash ${d.hash}`,
        {
          hint: 'two cells with the same canonical config are the same run: list it once',
        },
      );
    }
    byHash.set(d.hash, d.cellId);
  }
  const onWait = (line: string) => {
    try {
      options.onWait?.(scrub(line, q));
    } catch {
      // a failing reporter does not stop the enqueue
    }
  };
  await waitForRedis(q, { onWait, maxWaitMs: options.maxWaitMs });

  const result: EnqueueResult = { added: [], retried: [], existing: [], skippedDone: [] };
  const callerErrors = new Set<unknown>();
  const client = createRedisClient(q, onWait);
  const queue = new Queue<CellJobData>(name, { connection: client, prefix: QUEUE_PREFIX });
  queue.on('error', () => {
    // connection errors are reported by the client's reconnect lines; others reject the calls below
  });
  try {
    for (const data of datas) {
      const isDone = async () => {
        try {
          return options.isDone ? await options.isDone({ ...data }) : false;
        } catch (e) {
          callerErrors.add(e);
          throw e;
        }
      };
      const job = await queue.getJob(data.hash);
      if (job) {
        const state = await job.getState();
        if (state === 'failed' && options.retryFailed) {
          if (await isDone()) {
            result.skippedDone.push(data.cellId);
            continue;
          }
          // fresh tries and a fresh stall allowance (BullMQ's retry keeps the stall counter)
          await client.hset(`${QUEUE_PREFIX}:${name}:${data.hash}`, 'stc', '0');
          await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
          result.retried.push(data.cellId);
        } else {
          result.existing.push(data.cellId);
        }
        continue;
      }
      if (await isDone()) {
        result.skippedDone.push(data.cellId);
        continue;
      }
      await queue.add(CELL_JOB_NAME, data, {
        jobId: data.hash,
        attempts,
        backoff: { type: 'exponential', delay: backoffMs },
        removeOnComplete: false,
        removeOnFail: false,
      });
      result.added.push(data.cellId);
    }
  } catch (e) {
    if (e instanceof NetAugError || callerErrors.has(e)) throw e;
    throw new NetAugError(
      'IO',
      scrub(`enqueue on ${q.redacted} failed: ${(e as Error).message ?? String(e)}`, q),
      {
        hint: 'enqueuing is idempotent: run it again',
      },
    );
  } finally {
    await queue.close().catch(() => undefined);
    client.disconnect();
  }
  return result;
}
