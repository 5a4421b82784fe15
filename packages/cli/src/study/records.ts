import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { folderHash, type CellState, type PlannedCell } from './cells';
import type { Study } from './spec';

/**
 * A study's records (`records:` in the study file): for every finished cell, the few files its report reads —
 * `config.json` (with the run's hash), `summary.json`, `metrics.jsonl` — in `<records>/<cell>-<hash>`, tens of
 * kilobytes a cell, small enough to commit. A recorded cell counts as finished wherever its run folder went: a
 * fresh clone writes the study's report, and continues the study, without the run folders. While a cell that
 * starts from this one (`after:`) is not recorded yet, the record also holds the run's `model.nair` (what
 * `init: ${arm}` reads); it is removed once every such cell is recorded.
 */
export const RECORD_FILES = ['config.json', 'summary.json', 'metrics.jsonl'] as const;

const MODEL = 'model.nair';

/** Complete records by full run hash (a folder missing one of {@link RECORD_FILES} is not a record). */
export function recordsByHash(records: string | undefined): Map<string, string> {
  const map = new Map<string, string>();
  if (!records || !existsSync(records)) return map;
  for (const name of readdirSync(records).sort()) {
    const dir = join(records, name);
    if (!RECORD_FILES.every((f) => existsSync(join(dir, f)))) continue;
    const h = folderHash(dir);
    if (h && name.endsWith(`-${h.slice(0, 10)}`)) map.set(h, dir);
  }
  return map;
}

/** The record folder of a cell. */
export const recordDir = (records: string, cell: Pick<PlannedCell, 'id' | 'hash'>) =>
  join(records, `${cell.id}-${cell.hash.slice(0, 10)}`);

/**
 * Records one finished cell from its run folder (written whole or not at all: files go to a temporary folder
 * renamed into place). Returns the record folder, or undefined when the run folder is not a finished run of
 * this cell (no summary, or another hash) or the cell is recorded already.
 */
export function recordCell(
  records: string,
  cell: PlannedCell,
  runDir: string,
  withModel: boolean,
): string | undefined {
  const dir = recordDir(records, cell);
  if (runDir === dir || existsSync(join(dir, 'summary.json'))) return undefined;
  if (!existsSync(join(runDir, 'summary.json')) || folderHash(runDir) !== cell.hash) return undefined;
  const files = [...RECORD_FILES, ...(withModel && existsSync(join(runDir, MODEL)) ? [MODEL] : [])];
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const f of files) copyFileSync(join(runDir, f), join(tmp, f));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}

/**
 * Brings a study's records up to date from where its cells stand ({@link cellStates}): records every finished
 * cell not recorded yet and removes the model files no longer needed (every cell that starts from the cell is
 * recorded). Returns the ids recorded now.
 */
export function syncRecords(study: Study, states: CellState[]): string[] {
  const records = study.records;
  if (!records) return [];
  const cells = states.map((s) => s.cell);
  const finished = new Map(states.filter((s) => s.status === 'done').map((s) => [s.cell.id, s.cell.runDir]));
  const recorded: string[] = [];
  const isRecorded = (c: PlannedCell) => existsSync(join(recordDir(records, c), 'summary.json'));
  const dependents = (c: PlannedCell) => cells.filter((x) => x.after.includes(c.id));
  for (const c of cells) {
    const dir = finished.get(c.id);
    if (!dir || isRecorded(c)) continue;
    const needed = dependents(c).some((d) => !finished.has(d.id));
    if (recordCell(records, c, dir, needed)) recorded.push(c.id);
  }
  for (const c of cells) {
    const model = join(recordDir(records, c), MODEL);
    if (existsSync(model) && dependents(c).every(isRecorded)) rmSync(model);
  }
  return recorded;
}
