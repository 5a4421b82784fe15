import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { writeFileAtomicSync } from '@netaug/core/node';
import { dirname, join } from 'node:path';
import { nativeThreadsFor, resolveDataIdentity, runHash, type RunEnvironment } from '../run/run-hash';
import type { RunConfig } from '../run/run-config';
import { liveLock, type RunLock } from '../run/run-folder';
import { recordsByHash } from './records';
import type { Cell, Study } from './spec';

/** A cell with its place: the run's hash and folder. */
export interface PlannedCell extends Cell {
  hash: string;
  runDir: string;
  env: RunEnvironment;
}

export type { RunLock };

/** Where a cell stands. */
export type CellStatus = 'done' | 'running' | 'partial' | 'pending' | 'failed';

export interface CellState {
  cell: PlannedCell;
  status: CellStatus;
  /** Completed epochs (from metrics.jsonl). */
  epoch: number;
  epochs: number;
  /** Seconds of each completed epoch. */
  epochSeconds: number[];
  /** For `running`: the process holding the run folder. */
  lock?: RunLock;
  /** For `failed`: what failed.json says. */
  error?: { code?: string; message: string };
}

/** Options that change how cells are placed. */
export interface PlanOptions {
  /**
   * Native threads for cells that do not set `nativeThreads` (e.g. 1 with two local worker processes on two
   * cores). Part of every cell's hash: a thread count changes the bits of a run.
   */
  nativeThreads?: number;
  /** Resolves `auto` backends; default: probe here ({@link resolveRunEnvironment}). */
  resolveBackend?: (cfg: RunConfig) => Promise<RunEnvironment['backend']>;
}

/** Replaces `${arm}` in string values by the run folder of that arm's cell with the same seed and levels. */
function substitute(config: RunConfig, cell: Cell, dirs: Map<string, string>): RunConfig {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    out[k] =
      typeof v === 'string'
        ? v.replace(/\$\{([A-Za-z0-9_.-]+)\}/g, (m, arm: string) => {
            const dep = cell.after.find((id) => id.startsWith(`${arm}-`));
            return dep && dirs.has(dep) ? dirs.get(dep)! : m;
          })
        : v;
  }
  return out as RunConfig;
}

/** Gives every cell its resolved environment, hash and run folder (`<out>/runs/<id>-<hash[0:10]>`). */
export async function planCells(study: Study, o: PlanOptions = {}): Promise<PlannedCell[]> {
  const dirs = new Map<string, string>();
  // run hashes by folder: a fine-tuning cell's `init: ${pretrain}` is identified by its pretraining run's hash
  const hashes = new Map<string, string>();
  const planned: PlannedCell[] = [];
  const dataIds = new Map<string, string>();
  const backends = new Map<string, RunEnvironment['backend']>();
  const root = join(study.out, 'runs');
  const existing = new Map<string, string>();
  if (existsSync(root))
    for (const name of readdirSync(root).sort()) {
      const m = /-([0-9a-f]{10})$/.exec(name);
      if (m && !existing.has(m[1])) existing.set(m[1], join(root, name));
    }
  const finished = finishedByHash(study.out, study.records);
  for (const cell of study.cells) {
    let config = substitute(cell.config, cell, dirs);
    if (config.nativeThreads == null && o.nativeThreads != null)
      config = { ...config, nativeThreads: o.nativeThreads };
    let backend = config.backend;
    if (backend === 'auto') {
      const key = String(config.nativeThreads);
      if (!backends.has(key)) {
        const { resolveRunEnvironment } = await import('../run/run-hash');
        backends.set(
          key,
          o.resolveBackend ? await o.resolveBackend(config) : (await resolveRunEnvironment(config)).backend,
        );
      }
      backend = backends.get(key)!;
    }
    const dataKey = `${config.data}\0${config.dataDir ?? ''}`;
    if (!dataIds.has(dataKey)) dataIds.set(dataKey, await resolveDataIdentity(config));
    const env: RunEnvironment = {
      backend,
      threads:
        backend === 'native' ? nativeThreadsFor(config.nativeThreads) : backend === 'tensorflow' ? null : 1,
      data: dataIds.get(dataKey)!,
    };
    const hash = runHash(config, env, { knownRuns: hashes });
    // the machine's choices written into the config (not into the hash: it has them already), so that a cell
    // trained elsewhere (a queue worker) runs on the same backend with the same threads or refuses
    config = {
      ...config,
      backend: env.backend,
      ...(env.backend === 'native' ? { nativeThreads: env.threads! } : {}),
    };
    // the cell's folder: its finished run (the folder, else its record; a dependent cell's `${arm}` names it), else
    // a folder of the same run under another cell's name (a study sharing this out folder: the run is trained
    // once, and its lock keeps two studies from training it at the same time), else a new one
    const runDir =
      finished.get(hash) ??
      existing.get(hash.slice(0, 10)) ??
      join(study.out, 'runs', `${cell.id}-${hash.slice(0, 10)}`);
    dirs.set(cell.id, runDir);
    hashes.set(runDir, hash);
    planned.push({ ...cell, config: { ...config, out: runDir }, hash, runDir, env });
  }
  return planned;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The hash recorded in a run folder (`config.json` → meta.hash), if any. */
export function folderHash(dir: string): string | undefined {
  return readJson<{ meta?: { hash?: string } }>(join(dir, 'config.json'))?.meta?.hash;
}

/**
 * Finished run folders under `<out>/runs` by hash (a finished run counts wherever it is), and the study's records
 * ({@link recordsByHash}) of runs whose folders are not here.
 */
export function finishedByHash(out: string, records?: string): Map<string, string> {
  const root = join(out, 'runs');
  const map = recordsByHash(records);
  if (!existsSync(root)) return map;
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    if (!existsSync(join(dir, 'summary.json'))) continue;
    const h = folderHash(dir);
    if (h) map.set(h, dir);
  }
  return map;
}

/** Where every cell of a study stands, read from the run folders (and the study's records). */
export function cellStates(cells: PlannedCell[], out: string, records?: string): CellState[] {
  const finished = finishedByHash(out, records);
  return cells.map((c) => {
    const dir = finished.get(c.hash) ?? c.runDir;
    const cell = dir === c.runDir ? c : { ...c, runDir: dir };
    const lines = existsSync(join(dir, 'metrics.jsonl'))
      ? readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
          .split('\n')
          .filter((l) => l.trim())
      : [];
    const epochSeconds = lines.map((l) => (JSON.parse(l) as { seconds: number }).seconds);
    const base = { cell, epoch: lines.length, epochs: c.config.epochs, epochSeconds };
    if (finished.has(c.hash)) return { ...base, status: 'done' as const };
    const lock = liveLock(dir);
    if (lock) return { ...base, status: 'running' as const, lock };
    const failed = readJson<{ code?: string; message: string }>(join(dir, 'failed.json'));
    if (failed) return { ...base, status: 'failed' as const, error: failed };
    if (existsSync(join(dir, 'checkpoint.bin'))) return { ...base, status: 'partial' as const };
    return { ...base, status: 'pending' as const, epoch: 0, epochSeconds: [] };
  });
}

/**
 * Seconds left for the cells not done, over `slots` parallel workers: each cell's remaining epochs times the
 * median epoch time seen in its arm and levels (else over all cells; null when nothing has run yet).
 */
export function estimateSecondsLeft(states: CellState[], slots: number): number | null {
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? s[Math.floor(s.length / 2)] : NaN;
  };
  const all = states.flatMap((s) => s.epochSeconds);
  if (!all.length) return null;
  const overall = median(all);
  let total = 0;
  for (const s of states) {
    if (s.status === 'done' || s.status === 'failed') continue;
    const peers = states
      .filter((p) => p.cell.arm === s.cell.arm && p.cell.group === s.cell.group)
      .flatMap((p) => p.epochSeconds);
    const per = peers.length ? median(peers) : overall;
    total += (s.epochs - s.epoch) * per;
  }
  return total / Math.max(1, slots);
}

/**
 * How a study was last run here (`<out>/<name>.settings.json`, and `settings.json` in its records folder for
 * clones without the out folder): --status and reports place cells the same way.
 */
export interface StudySettings {
  parallel: number;
  nativeThreads?: number;
}

const settingsFiles = (study: Study) => [
  join(study.out, `${study.name}.settings.json`),
  ...(study.records ? [join(study.records, 'settings.json')] : []),
];

export function readStudySettings(study: Study): StudySettings | undefined {
  for (const f of settingsFiles(study)) {
    const s = readJson<StudySettings>(f);
    if (s) return s;
  }
  return undefined;
}

export function writeStudySettings(study: Study, s: StudySettings): void {
  const bytes = JSON.stringify(s, null, 2) + '\n';
  for (const f of settingsFiles(study)) {
    mkdirSync(dirname(f), { recursive: true });
    writeFileAtomicSync(f, bytes);
  }
}
