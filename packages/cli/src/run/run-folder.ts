import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { NetAugError } from '@netaug/core';

/** The lock a process holds on a run folder while it trains it. */
export interface RunLock {
  pid: number;
  host: string;
  started: string;
}

/** True when `pid` is a live process on this machine. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The lock of `dir` if a live process holds it (on this host; locks of other hosts are trusted). */
export function liveLock(dir: string): RunLock | undefined {
  const lock = readJson<RunLock>(join(dir, 'run.lock'));
  if (!lock) return undefined;
  if (lock.host === hostname() && !processAlive(lock.pid)) return undefined;
  return lock;
}

/**
 * Creates `dir` if needed and checks that files can be written in it — before minutes of data loading, not after.
 * @throws NetAugError `IO` naming the folder and the cause.
 */
export function checkWritable(dir: string): void {
  const probe = join(dir, `.write-probe.${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why: Record<string, string> = {
      EACCES: 'permission denied',
      EPERM: 'operation not permitted',
      EROFS: 'read-only file system',
      EEXIST: 'a file of that name is in the way',
      ENOTDIR: 'a file is in the path where a folder should be',
      ENOSPC: 'no space left on the device',
    };
    throw new NetAugError(
      'IO',
      `cannot write the run folder ${dir}: ${why[code ?? ''] ?? (e as Error).message}`,
      {
        hint: 'choose another --out (a folder you can write to)',
        cause: e,
      },
    );
  }
}

/**
 * Marks `dir` as trained by this process (`run.lock`: pid, host, start time) and returns the release function.
 * A live lock of another process is a RUN_FOLDER error; a stale one (its process is gone) is taken over.
 */
export function acquireRunLock(dir: string): () => void {
  const file = join(dir, 'run.lock');
  mkdirSync(dir, { recursive: true });
  const held = liveLock(dir);
  if (held && held.pid !== process.pid) {
    throw new NetAugError(
      'RUN_FOLDER',
      `${dir} is being trained by process ${held.pid} on ${held.host} (since ${held.started})`,
      { hint: `wait for it, stop it, or delete ${file} if that process is gone` },
    );
  }
  writeFileSync(
    file,
    JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() }),
  );
  return () => rmSync(file, { force: true });
}

/** The files a run writes into its folder (what `--overwrite` removes). */
const RUN_FILES = [
  'config.json',
  'checkpoint.bin',
  'checkpoint.json',
  'best.bin',
  'best.json',
  'metrics.jsonl',
  'metrics.csv',
  'steps.jsonl',
  'summary.json',
  'model.nair',
  'loss.svg',
  'loss.png',
  'accuracy.svg',
  'accuracy.png',
  'failed.json',
];

/** What a run folder holds, read from its files. */
interface FolderState {
  hash?: string;
  canonical?: Record<string, unknown>;
  finished: boolean;
  /** Completed epochs of the checkpoint, if there is one. */
  checkpointEpoch?: number;
  epochs?: number;
}

function folderState(dir: string): FolderState {
  const cfgFile = join(dir, 'config.json');
  let cfg: { epochs?: number; meta?: { hash?: string; canonical?: Record<string, unknown> } } | undefined;
  if (existsSync(cfgFile)) {
    cfg = readJson(cfgFile);
    if (!cfg) {
      throw new NetAugError('RUN_FOLDER', `${cfgFile} is not valid JSON (a damaged run folder)`, {
        hint: 'pass --overwrite to start this run again, or choose another --out',
      });
    }
  }
  const ck = readJson<{ epoch?: number }>(join(dir, 'checkpoint.json'));
  return {
    hash: cfg?.meta?.hash,
    canonical: cfg?.meta?.canonical,
    finished: existsSync(join(dir, 'summary.json')),
    checkpointEpoch: existsSync(join(dir, 'checkpoint.bin')) ? (ck?.epoch ?? 0) : undefined,
    epochs: cfg?.epochs,
  };
}

/** `lr: 0.1 → 0.05, epochs: 10 → 20` — the keys whose values differ. */
export function describeDifferences(a: Record<string, unknown>, b: Record<string, unknown>): string {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const fmt = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));
  return keys
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k}: ${fmt(a[k])} → ${fmt(b[k])}`)
    .join(', ');
}

/** What {@link claimRunFolder} decided. */
export type FolderDecision =
  { action: 'fresh' } | { action: 'resume'; epoch: number } | { action: 'finished' };

/**
 * Decides what training in `dir` means, refusing anything that would overwrite or mix runs:
 * - a folder with a finished run: refused unless `overwrite` (with `resume` and the same config: nothing to do);
 * - a folder with another run (another hash): refused unless `overwrite`; with `resume`, the error names the
 *   settings that differ;
 * - an interrupted run of the same config: `resume` continues it from its checkpoint; without `resume` refused
 *   unless `overwrite`;
 * - `resume` with nothing to resume: says so (through `log`) and starts.
 * With `overwrite` the run's own files are removed first (nothing else in the folder is touched).
 */
export function claimRunFolder(
  dir: string,
  o: {
    hash: string;
    canonical: Record<string, unknown>;
    resume?: boolean;
    overwrite?: boolean;
    log: (line: string) => void;
  },
): FolderDecision {
  const st = folderState(dir);
  const holdsRun = st.hash !== undefined || st.checkpointEpoch !== undefined || st.finished;
  if (!holdsRun) {
    if (o.resume) o.log(`netaug: nothing to resume in ${dir} (no checkpoint): starting from the beginning`);
    return { action: 'fresh' };
  }
  if (o.overwrite) {
    for (const f of RUN_FILES) rmSync(join(dir, f), { force: true });
    rmSync(join(dir, 'tensorboard'), { recursive: true, force: true });
    o.log(`netaug: --overwrite: removed the previous run's files in ${dir}`);
    return { action: 'fresh' };
  }
  const same = st.hash === o.hash;
  if (!same) {
    const diff = st.canonical ? describeDifferences(st.canonical, o.canonical) : '';
    throw new NetAugError(
      'RUN_FOLDER',
      `${dir} holds ${st.finished ? 'a finished' : 'an interrupted'} run of another config` +
        (diff ? ` (${diff})` : st.hash ? '' : ' (written before run hashes existed)'),
      {
        hint: o.resume
          ? 'resume with the config of that run, or choose another --out'
          : 'choose another --out, or pass --overwrite to replace it',
      },
    );
  }
  if (st.finished) {
    if (o.resume) return { action: 'finished' };
    throw new NetAugError('RUN_FOLDER', `${dir} holds a finished run of this config`, {
      hint: 'its results are in summary.json; pass --overwrite to train it again, or choose another --out',
    });
  }
  if (!o.resume) {
    throw new NetAugError(
      'RUN_FOLDER',
      `${dir} holds an interrupted run of this config (${st.checkpointEpoch ?? 0} of ${st.epochs ?? '?'} epochs done)`,
      { hint: 'pass --resume to continue it, or --overwrite to start again' },
    );
  }
  if (st.checkpointEpoch === undefined) {
    o.log(`netaug: nothing to resume in ${dir} (no checkpoint was written): starting from the beginning`);
    return { action: 'fresh' };
  }
  o.log(`netaug: resuming ${dir} after epoch ${st.checkpointEpoch} of ${st.epochs ?? '?'}`);
  return { action: 'resume', epoch: st.checkpointEpoch };
}
