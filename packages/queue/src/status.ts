import { NetAugError } from '@netaug/core';
import { type Job, Queue } from 'bullmq';
import { type CellJobData, QUEUE_PREFIX, queueNameOf, readCell } from './cells';
import { createRedisClient, waitForRedis } from './redis';
import { type QueueUrl, scrub } from './url';
import type { CellProgress } from './worker';

export type CellState =
  'waiting' | 'active' | 'completed' | 'failed' | 'delayed' | 'waiting-children' | 'unknown';

/** One job of a study's queue. */
export interface CellStatus {
  cellId: string;
  /** The canonical config hash = the job id. */
  hash: string;
  /** The cell's run folder (on the shared storage). */
  runDir: string;
  state: CellState;
  /** Name of the last worker that started the job (the one running it, when active). */
  worker?: string;
  /** Last progress its handler reported. */
  progress?: CellProgress;
  /** Tries that ended (failed or completed); a try lost with its worker is not counted. */
  attemptsMade: number;
  /** Times a worker started the job (tries lost with their worker included). */
  attemptsStarted: number;
  /** Times the job lost its worker and was handed on (stalled). */
  stalledCount: number;
  /** Why the last try failed (when failed, or waiting for a retry). */
  failedReason?: string;
  /** When the last try started (ms since the epoch). */
  startedAt?: number;
  /** When the job completed or finally failed (ms since the epoch). */
  finishedAt?: number;
}

/** States asked in this order; a job seen twice (it moved meanwhile) is asked again. */
const STATES = [
  'active',
  'waiting',
  'prioritized',
  'delayed',
  'waiting-children',
  'completed',
  'failed',
] as const;

function progressOf(p: unknown): CellProgress | undefined {
  if (!p || typeof p !== 'object') return undefined;
  const { epoch, epochs } = p as Partial<CellProgress>;
  return typeof epoch === 'number' && typeof epochs === 'number' ? { epoch, epochs } : undefined;
}

function stateOf(s: string): CellState {
  // a job given a priority (BullMQ keeps it apart as 'prioritized') waits for a worker like any other
  if (s === 'wait' || s === 'paused' || s === 'waiting' || s === 'prioritized') return 'waiting';
  return (STATES as readonly string[]).includes(s) ? (s as CellState) : 'unknown';
}

function statusOf(job: Job<CellJobData>, state: CellState): CellStatus {
  const hash = job.id ?? '';
  const cell = readCell(job.data, hash);
  const st: CellStatus = {
    cellId: cell.cellId,
    hash,
    runDir: cell.runDir,
    state,
    attemptsMade: job.attemptsMade ?? 0,
    attemptsStarted: job.attemptsStarted ?? 0,
    stalledCount: job.stalledCounter ?? 0,
  };
  if (job.processedBy) st.worker = job.processedBy;
  const progress = progressOf(job.progress);
  if (progress) st.progress = progress;
  if (job.failedReason && state !== 'completed') st.failedReason = job.failedReason;
  if (job.processedOn) st.startedAt = job.processedOn;
  if (job.finishedOn && (state === 'completed' || state === 'failed')) st.finishedAt = job.finishedOn;
  return st;
}

/**
 * Every job of the study's queue with its state, worker, progress and tries, in the order the cells were
 * enqueued. Waits for Redis first (`onWait`, `maxWaitMs`).
 */
export async function queueStatus(
  q: QueueUrl,
  study: string,
  options: { onWait?: (message: string) => void; maxWaitMs?: number } = {},
): Promise<CellStatus[]> {
  const name = queueNameOf(study);
  const onWait = (line: string) => {
    try {
      options.onWait?.(scrub(line, q));
    } catch {
      // a failing reporter does not stop the status
    }
  };
  await waitForRedis(q, { onWait, maxWaitMs: options.maxWaitMs });
  const client = createRedisClient(q, onWait);
  const queue = new Queue<CellJobData>(name, { connection: client, prefix: QUEUE_PREFIX });
  queue.on('error', () => undefined);
  try {
    const seen = new Map<string, { job: Job<CellJobData>; state: CellState }>();
    const twice = new Set<string>();
    for (const state of STATES) {
      const jobs = (await queue.getJobs([state], 0, -1, true)) as Job<CellJobData>[];
      for (const job of jobs) {
        if (!job?.id) continue;
        if (seen.has(job.id)) twice.add(job.id);
        seen.set(job.id, { job, state: stateOf(state) });
      }
    }
    for (const id of twice) {
      const job = (await queue.getJob(id)) as Job<CellJobData> | undefined;
      if (!job) {
        seen.delete(id);
        continue;
      }
      seen.set(id, { job, state: stateOf(await job.getState()) });
    }
    return [...seen.values()]
      .sort(
        (a, b) =>
          a.job.timestamp - b.job.timestamp ||
          readCell(a.job.data, '').cellId.localeCompare(readCell(b.job.data, '').cellId),
      )
      .map(({ job, state }) => statusOf(job, state));
  } catch (e) {
    if (e instanceof NetAugError) throw e;
    throw new NetAugError(
      'IO',
      scrub(`status of ${study} on ${q.redacted} failed: ${(e as Error).message}`, q),
    );
  } finally {
    await queue.close().catch(() => undefined);
    client.disconnect();
  }
}
