import { NetAugError } from '@netaug/core';
import { type QueueUrl, containsPassword } from './url';

/** Redis key prefix of every queue of this package: a study's keys are `netaug:<study>:…`. */
export const QUEUE_PREFIX = 'netaug';

/** Name of every job (the cell is in its data). */
export const CELL_JOB_NAME = 'cell';

/** What a job carries — nothing else is written to Redis (no credentials, no queue URL). */
export interface CellJobData {
  /** Study name (also the queue name). */
  study: string;
  /** Human-readable id of the cell, e.g. `netaug-s0`. */
  cellId: string;
  /** Canonical config hash (sha256, 64 lowercase hex digits): the BullMQ job id. */
  hash: string;
  /** The run folder, on storage every worker sees. */
  runDir: string;
  /** The run config (JSON). */
  config: Record<string, unknown>;
}

/** A cell to enqueue: {@link CellJobData}, `study` optional (the study argument fills it in). */
export type CellInput = Omit<CellJobData, 'study'> & { study?: string };

/** The queue name of a study; throws `INVALID_ARGUMENT` for names Redis keys cannot carry. */
export function queueNameOf(study: unknown): string {
  if (typeof study !== 'string' || study.trim() === '') {
    throw new NetAugError('INVALID_ARGUMENT', 'the study name must be a non-empty string');
  }
  if (study.includes(':') || study.length > 200 || [...study].some((c) => c.charCodeAt(0) < 32)) {
    throw new NetAugError('INVALID_ARGUMENT', `study name '${study}' cannot name a queue`, {
      hint: 'use at most 200 characters, no ":" and no control characters',
    });
  }
  return study;
}

const HASH = /^[0-9a-f]{64}$/;

/** A cell's job data: exactly the fields of {@link CellJobData}, checked. */
export function cellJobData(q: QueueUrl, study: string, cell: CellInput, index: number): CellJobData {
  const where = `cells[${index}]`;
  const bad = (problem: string, hint?: string) =>
    new NetAugError('INVALID_ARGUMENT', `${where}: ${problem}`, hint ? { hint } : {});
  if (!cell || typeof cell !== 'object') throw bad('must be an object');
  if (typeof cell.cellId !== 'string' || cell.cellId === '') throw bad('cellId must be a non-empty string');
  const named = `${where} (${cell.cellId})`;
  const badCell = (problem: string, hint?: string) =>
    new NetAugError('INVALID_ARGUMENT', `${named}: ${problem}`, hint ? { hint } : {});
  if (typeof cell.hash !== 'string' || !HASH.test(cell.hash)) {
    throw badCell('hash must be the canonical config hash', 'sha256 as 64 lowercase hex digits');
  }
  if (typeof cell.runDir !== 'string' || cell.runDir === '')
    throw badCell('runDir must be a non-empty string');
  if (cell.study !== undefined && cell.study !== study) {
    throw badCell(`belongs to study '${String(cell.study)}', not '${study}'`);
  }
  const cfg = cell.config;
  if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) throw badCell('config must be an object');
  const data: CellJobData = { study, cellId: cell.cellId, hash: cell.hash, runDir: cell.runDir, config: cfg };
  let json: string;
  try {
    json = JSON.stringify(data);
  } catch (e) {
    throw badCell(`config is not JSON (${(e as Error).message})`);
  }
  if (containsPassword(json, q)) {
    throw badCell(
      'holds the queue password',
      'job data is stored in Redis and shown by status: keep secrets out',
    );
  }
  return JSON.parse(json) as CellJobData;
}

/** The cell fields of stored job data (older or foreign jobs may lack some). */
export function readCell(data: unknown, hash: string): CellJobData {
  const d = (data && typeof data === 'object' ? data : {}) as Partial<CellJobData>;
  return {
    study: typeof d.study === 'string' ? d.study : '',
    cellId: typeof d.cellId === 'string' ? d.cellId : hash,
    hash,
    runDir: typeof d.runDir === 'string' ? d.runDir : '',
    config: d.config && typeof d.config === 'object' ? d.config : {},
  };
}
