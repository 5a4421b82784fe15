import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NetAugError } from '@netaug/core';
import type { CellStatus, QueueUrl, QueueWorker } from '@netaug/queue';
import { writeFileAtomicSync } from '@netaug/core/node';
import { cellStates, finishedByHash, type PlannedCell } from './cells';
import { ChildFailure, trainInChild } from './child';
import { buildStudy, type Study } from './spec';

/** The queue every study and worker uses unless told otherwise (`--queue-name`). */
export const DEFAULT_QUEUE_NAME = 'studies';

/** The queue URL of `--queue`, else env NETAUG_QUEUE_URL; undefined without either. */
export async function queueUrl(flag?: string): Promise<QueueUrl | undefined> {
  const url = flag ?? process.env.NETAUG_QUEUE_URL;
  if (!url) return undefined;
  const { parseQueueUrl } = await import('@netaug/queue');
  return parseQueueUrl(url);
}

/**
 * What a worker needs to build a study's report: the study file's contents and its planned cells, written next
 * to the runs (`<out>/<name>.study.json`, on the storage every worker sees).
 */
interface StoredStudy {
  name: string;
  file?: string;
  out: string;
  /** The records folder, absolute like `out` (workers may run elsewhere). */
  records?: string;
  spec: unknown;
  cells: PlannedCell[];
}

const storedFile = (out: string, name: string) => join(out, `${name}.study.json`);

/** A job's cell id: `<study>/<cell>` (one queue serves many studies). */
const jobCellId = (study: string, cell: string) => `${study}/${cell}`;

/**
 * Enqueues every cell of a study (or only the cells in `only`) that is not finished on storage; the job id is
 * the cell's hash (enqueuing again adds nothing). The study's out folder must be the same path on every machine
 * (absolute). The study stored for the workers has all its cells: the last one to finish writes the report.
 */
export async function enqueueStudy(
  q: QueueUrl,
  study: Study,
  cells: PlannedCell[],
  o: { queueName: string; retryFailed?: boolean; only?: PlannedCell[]; log: (line: string) => void },
): Promise<{ added: string[]; existing: string[]; skippedDone: string[]; retried: string[] }> {
  const { enqueueCells } = await import('@netaug/queue');
  const stored: StoredStudy = {
    name: study.name,
    file: study.file,
    out: study.out,
    ...(study.records ? { records: study.records } : {}),
    spec: study.spec,
    cells,
  };
  writeFileAtomicSync(storedFile(study.out, study.name), JSON.stringify(stored, null, 2) + '\n');
  const finished = finishedByHash(study.out, study.records);
  return enqueueCells(
    q,
    o.queueName,
    (o.only ?? cells).map((c) => ({
      cellId: jobCellId(study.name, c.id),
      hash: c.hash,
      runDir: c.runDir,
      config: c.config as unknown as Record<string, unknown>,
    })),
    {
      isDone: (c) => finished.has(c.hash),
      retryFailed: o.retryFailed,
      onWait: (m) => o.log(`netaug study: ${m}`),
    },
  );
}

/** The queue's view of a study's cells (by hash). */
export async function studyJobs(
  q: QueueUrl,
  queueName: string,
  study: string,
  onWait?: (message: string) => void,
): Promise<Map<string, CellStatus>> {
  const { queueStatus } = await import('@netaug/queue');
  const all = await queueStatus(q, queueName, { onWait });
  return new Map(all.filter((s) => s.cellId.startsWith(`${study}/`)).map((s) => [s.hash, s]));
}

/**
 * Waits until every cell of the study is finished on storage or failed in the queue, printing each change.
 * Returns the ids of failed cells.
 */
export async function waitForStudy(
  q: QueueUrl,
  study: Study,
  cells: PlannedCell[],
  o: { queueName: string; log: (line: string) => void; pollMs?: number },
): Promise<string[]> {
  const seen = new Map<string, string>();
  for (;;) {
    // Redis down: waits with backoff and says so (the jobs are in its append-only file)
    const jobs = await studyJobs(q, o.queueName, study.name, (m) => o.log(`netaug study: ${m}`));
    const states = cellStates(cells, study.out, study.records);
    let open = 0;
    const failed: string[] = [];
    for (const s of states) {
      const job = jobs.get(s.cell.hash);
      const state =
        s.status === 'done' ? 'done' : job?.state === 'failed' ? 'failed' : (job?.state ?? 'not queued');
      if (state === 'failed') failed.push(s.cell.id);
      else if (state !== 'done') open++;
      const line =
        state === 'active'
          ? `${s.cell.id}: training on ${job?.worker ?? '?'} (epoch ${s.epoch}/${s.epochs})`
          : state === 'failed'
            ? `${s.cell.id}: FAILED: ${job?.failedReason ?? ''}`
            : `${s.cell.id}: ${state}`;
      if (seen.get(s.cell.id) !== line) {
        seen.set(s.cell.id, line);
        o.log(`netaug study: ${line}`);
      }
      if (state === 'not queued')
        throw new NetAugError('IO', `cell ${s.cell.id} is neither finished nor in the queue`, {
          hint: 'Redis lost the job (it runs without appendonly?): run the study command again to enqueue it',
        });
    }
    if (open === 0) return failed;
    await new Promise((r) => setTimeout(r, o.pollMs ?? 5000));
  }
}

/** Options of {@link startCellWorker}. */
export interface CellWorkerOptions {
  queueName: string;
  /** Called when this worker cannot see a study's folder: it then stops, its cells go back to the queue. */
  onFatal?: (message: string) => void;
  concurrency?: number;
  name?: string;
  log: (line: string) => void;
  /** Stall detection (ms): see @netaug/queue. */
  lockDuration?: number;
  stalledInterval?: number;
}

/**
 * A queue worker that trains cells in child processes (`netaug train … --resume --expect-hash`): a lost worker's
 * cell resumes elsewhere from its last checkpoint. A failure no retry can fix (bad config or data, divergence)
 * fails the cell at once; a killed process or an I/O problem is retried. After each finished cell, when every
 * cell of its study is finished, the worker writes the study's report.
 */
export async function startCellWorker(q: QueueUrl, o: CellWorkerOptions): Promise<QueueWorker> {
  const { startWorker, PermanentError, RetryableError } = await import('@netaug/queue');
  const worker = startWorker(
    q,
    o.queueName,
    async (cell, ctx) => {
      const out = dirname(dirname(cell.runDir));
      const [study] = cell.cellId.split('/');
      const blind = invisible(out, study);
      if (blind) {
        // no try is spent: the worker stops and puts the cell back for a worker that sees the storage
        o.onFatal?.(blind);
        await new Promise((r) => ctx.signal.addEventListener('abort', r, { once: true }));
        throw new RetryableError(blind);
      }
      try {
        await trainInChild(
          {
            id: cell.cellId,
            hash: cell.hash,
            runDir: cell.runDir,
            config: cell.config as never,
          },
          {
            signal: ctx.signal,
            onEpoch: (epoch, epochs) => void ctx.progress({ epoch, epochs }),
            threads: (cell.config as { nativeThreads?: number }).nativeThreads,
          },
        );
      } catch (e) {
        if (e instanceof ChildFailure && !e.retryable) throw new PermanentError(`[${e.code}] ${e.message}`);
        throw new RetryableError((e as Error).message);
      }
      await reportIfComplete(out, study, o.log);
    },
    {
      concurrency: o.concurrency ?? 1,
      name: o.name,
      onEvent: (line) => o.log(`netaug worker: ${line}`),
      lockDuration: o.lockDuration,
      stalledInterval: o.stalledInterval,
    },
  );
  return worker;
}

/** Why this machine cannot train a study's cells (its folder is not visible here), or undefined. */
function invisible(out: string, study: string): string | undefined {
  return existsSync(storedFile(out, study))
    ? undefined
    : `this machine cannot see the study folder ${out} (no ${study}.study.json there): mount the shared storage at the same path on every worker`;
}

/**
 * Checks, before a worker takes anything, that this machine sees the folder of every study waiting in the
 * queue; the first one it cannot see is returned as a message.
 */
export async function checkStorage(q: QueueUrl, queueName: string): Promise<string | undefined> {
  const { queueStatus } = await import('@netaug/queue');
  const seen = new Set<string>();
  for (const s of await queueStatus(q, queueName)) {
    if (s.state === 'completed' || s.state === 'failed' || s.state === 'unknown') continue;
    const key = s.cellId.split('/')[0];
    if (seen.has(key)) continue;
    seen.add(key);
    if (!s.runDir) continue;
    const why = invisible(dirname(dirname(s.runDir)), key);
    if (why) return why;
  }
  return undefined;
}

/** Writes a study's report when all its cells are finished on storage (any process may; the write is atomic). */
export async function reportIfComplete(
  out: string,
  name: string,
  log: (line: string) => void,
): Promise<boolean> {
  const stored = JSON.parse(readFileSync(storedFile(out, name), 'utf8')) as StoredStudy;
  const states = cellStates(stored.cells, out, stored.records);
  if (states.some((s) => s.status !== 'done')) return false;
  const study = buildStudy(stored.spec, {
    file: stored.file,
    name: stored.name,
    out: stored.out,
    records: stored.records,
  });
  const { writeStudyReport } = await import('./report');
  const r = await writeStudyReport(study, stored.cells);
  log(`netaug: study ${name} is complete; report: ${join(r.dir, 'report.md')}`);
  return true;
}
