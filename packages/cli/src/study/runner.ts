import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFileAtomicSync } from '@netaug/core/node';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { isNetAugError } from '@netaug/core';
import { trainInChild } from './child';
import { cellStates, estimateSecondsLeft, type CellState, type PlannedCell } from './cells';
import { syncRecords } from './records';
import type { Study } from './spec';

/** Options of {@link runStudy}. */
export interface RunStudyOptions {
  /**
   * Cells trained at the same time, each in its own process (default 1: in this process). On 2 cores, two
   * 1-thread processes finish more cells per hour than one 2-thread process (docs/benchmarks.md).
   */
  parallel?: number;
  /** Train cells that failed before again (default: they stay failed and are reported). */
  retryFailed?: boolean;
  /** One line per event (cell started, finished, failed, reused). */
  log?: (line: string) => void;
  /** Per-epoch progress lines of in-process cells (default: none). */
  plainProgress?: boolean;
  /**
   * Train only the cells whose ids match one of these patterns (`*` matches any text), e.g. to fit the cells
   * into the hours a machine is available; the others are left as they are. Default: every cell.
   */
  cells?: string[];
}

/** Does a cell id match one of the patterns (`*` = any text, the rest literal)? */
export function matchesCell(id: string, patterns: string[]): boolean {
  return patterns.some((p) =>
    new RegExp(
      `^${p
        .split('*')
        .map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    ).test(id),
  );
}

export interface RunStudyResult {
  cells: CellState[];
  /** Cells trained by this call. */
  trained: string[];
  failed: string[];
}

const failedFile = (dir: string) => join(dir, 'failed.json');

/** Native threads of cells that do not set them: the flag, else cores / parallel with `parallel` > 1. */
export function defaultNativeThreads(parallel: number, flag?: number): number | undefined {
  return flag ?? (parallel > 1 ? Math.max(1, Math.floor(availableParallelism() / parallel)) : undefined);
}

/** Runs every cell of a study that is not done: finished runs are reused, interrupted ones resume. */
export async function runStudy(
  study: Study,
  cells: PlannedCell[],
  o: RunStudyOptions = {},
): Promise<RunStudyResult> {
  const log = o.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const parallel = Math.max(1, o.parallel ?? 1);
  mkdirSync(join(study.out, 'runs'), { recursive: true });
  const initial = cellStates(cells, study.out, study.records);
  const byId = new Map(initial.map((s) => [s.cell.id, s]));
  const done = new Set(initial.filter((s) => s.status === 'done').map((s) => s.cell.id));
  const failed = new Set<string>();
  const trained: string[] = [];
  for (const s of initial) {
    if (s.status === 'failed' && !o.retryFailed) failed.add(s.cell.id);
    if (s.status === 'failed' && o.retryFailed) rmSync(failedFile(s.cell.runDir), { force: true });
  }
  const selected = (c: PlannedCell) => !o.cells || matchesCell(c.id, o.cells);
  const todo = initial
    .filter((s) => s.status !== 'done' && !failed.has(s.cell.id) && selected(s.cell))
    .map((s) => s.cell);
  log(
    `netaug study ${study.name}: ${cells.length} cells, ${done.size} done, ${failed.size} failed before, ` +
      `${todo.length} to train` +
      (o.cells ? ` (--cells ${o.cells.join(',')})` : '') +
      (parallel > 1 ? ` in ${parallel} processes` : '') +
      (cells[0]?.env.threads && cells[0].env.backend === 'native'
        ? ` (${cells[0].env.threads} native threads each)`
        : '') +
      ` → ${study.out}`,
  );

  const running = new Set<string>();
  const blocked = (c: PlannedCell) => c.after.some((d) => failed.has(d));
  const ready = (c: PlannedCell) => c.after.every((d) => done.has(d));
  const pending = [...todo];
  const progressLine = () => {
    const states = cellStates(cells, study.out, study.records);
    const left = estimateSecondsLeft(states, parallel);
    return `${done.size}/${cells.length} done` + (left != null ? `, about ${formatDuration(left)} left` : '');
  };

  const runOne = async (c: PlannedCell): Promise<void> => {
    const held = byId.get(c.id)?.lock;
    if (held) {
      log(`netaug study: ${c.id} is being trained by pid ${held.pid} on ${held.host}; skipped here`);
      return;
    }
    running.add(c.id);
    const resume = existsSync(join(c.runDir, 'checkpoint.bin'));
    log(`netaug study: ${resume ? 'resuming' : 'training'} ${c.id} → ${c.runDir}`);
    try {
      if (parallel > 1) await trainInChild(c, { threads: c.env.threads });
      else {
        const { trainRun } = await import('../run/train-run');
        await trainRun(c.config, {
          resume: true,
          expectHash: c.hash,
          plainProgress: o.plainProgress,
          quiet: !o.plainProgress,
          log: () => undefined,
        });
      }
      done.add(c.id);
      trained.push(c.id);
      syncRecords(study, cellStates(cells, study.out, study.records));
      log(`netaug study: ${c.id} finished${summaryLine(c.runDir)}; ${progressLine()}`);
    } catch (e) {
      failed.add(c.id);
      const err = {
        code: isNetAugError(e) ? e.code : undefined,
        message: (e as Error).message,
      };
      writeFileAtomicSync(failedFile(c.runDir), JSON.stringify(err, null, 2) + '\n');
      log(`netaug study: ${c.id} FAILED${err.code ? ` [${err.code}]` : ''}: ${err.message}`);
      if (!isNetAugError(e) && parallel === 1) throw e;
    } finally {
      running.delete(c.id);
    }
  };

  // a simple pool: start ready cells while slots are free; cells whose dependencies failed are skipped
  await new Promise<void>((resolveAll, rejectAll) => {
    const tick = () => {
      for (let i = 0; i < pending.length && running.size < parallel;) {
        const c = pending[i];
        if (blocked(c)) {
          pending.splice(i, 1);
          failed.add(c.id);
          log(`netaug study: ${c.id} skipped: a cell it runs after failed`);
          continue;
        }
        if (!ready(c)) {
          i++;
          continue;
        }
        pending.splice(i, 1);
        runOne(c).then(tick, rejectAll);
      }
      if (running.size === 0) {
        if (pending.length) {
          for (const c of pending.splice(0)) {
            failed.add(c.id);
            log(`netaug study: ${c.id} not run: the cells it runs after are not done`);
          }
        }
        resolveAll();
      }
    };
    tick();
  });
  const finalStates = cellStates(cells, study.out, study.records);
  return { cells: finalStates, trained, failed: [...failed] };
}

function summaryLine(dir: string): string {
  try {
    const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as {
      final?: { test?: Record<string, number>; val?: Record<string, number> };
      seconds: number;
    };
    const pct = (x?: number) => (x == null ? '-' : `${(100 * x).toFixed(2)}%`);
    if (s.final?.test?.top1 == null && s.final?.test?.vocMAP != null) {
      // a detection run: its mAPs
      const f = (x?: number) => (x == null ? '-' : x.toFixed(4));
      return ` (val VOC mAP ${f(s.final?.val?.vocMAP)}, test VOC mAP ${f(s.final?.test?.vocMAP)}, ${formatDuration(s.seconds)})`;
    }
    return ` (val top-1 ${pct(s.final?.val?.top1)}, test top-1 ${pct(s.final?.test?.top1)}, ${formatDuration(s.seconds)})`;
  } catch {
    return '';
  }
}

/** 5400 → "1 h 30 min". */
export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const m = Math.round(seconds / 60);
  return m < 90 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}
