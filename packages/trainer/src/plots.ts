import * as fs from 'node:fs';
import * as path from 'node:path';
import { NetAugError, loadOptional } from '@netaug/core';
import { writeFilesAtomic } from '@netaug/core/node';
import { readSteps, type StepRecord } from './callbacks/step-logger';
import { isEvalMetrics } from './evaluate';
import type { EpochRecord } from './metrics';

type Row = Record<string, string | number>;

/**
 * Renders a Vega-Lite spec to SVG (vega View, no browser) and PNG (sharp); writes `<out>.svg` and `<out>.png`
 * together, atomically. vega, vega-lite and sharp are optional dependencies, loaded here: without one of them,
 * `MISSING_DEPENDENCY` naming it.
 */
export async function renderPlot(
  spec: Record<string, unknown>,
  out: string,
): Promise<{ svg: string; png: string }> {
  const vega = await loadOptional('vega', 'plotting', () => import('vega'));
  const vl = await loadOptional('vega-lite', 'plotting', () => import('vega-lite'));
  const sharp = (await loadOptional('sharp', 'plotting (PNG)', () => import('sharp'))).default;
  const compiled = vl.compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const base = out.replace(/\.(svg|png)$/, '');
  const png = await sharp(Buffer.from(svg), { density: 144 }).png().toBuffer();
  // both or neither, each complete (writeFilesAtomic of @netaug/core/node)
  await writeFilesAtomic([
    { file: `${base}.svg`, bytes: svg },
    { file: `${base}.png`, bytes: png },
  ]);
  return { svg: `${base}.svg`, png: `${base}.png` };
}

/** Reads `metrics.jsonl` of a run folder. */
export function readMetrics(runDir: string): EpochRecord[] {
  const file = path.join(runDir, 'metrics.jsonl');
  if (!fs.existsSync(file)) throw new NetAugError('DATA_NOT_FOUND', `No metrics.jsonl in ${runDir}`);
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as EpochRecord);
}

function lineSpec(title: string, y: string, rows: Row[], color = 'series'): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 420,
    height: 260,
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'value', type: 'quantitative', title: y, scale: { zero: false } },
      color: { field: color, type: 'nominal', title: null },
    },
  };
}

/** One point of a run plot: `x` in epochs (the end of epoch `e`, 0-based, is `e + 1`). */
export interface PlotRow {
  x: number;
  series: string;
  /** `step`: a per-step moving average (line); `epoch`: an epoch mean next to per-step lines (dot); `epoch-line`: per-epoch values (line with dots). */
  kind: 'step' | 'epoch' | 'epoch-line';
  value: number;
}

/** Options of {@link plotRun} / {@link plotData}. */
export interface PlotOptions {
  /** Per-step records (default: `<runDir>/steps.jsonl` when it is there; none: per-epoch curves only). */
  steps?: StepRecord[];
  /**
   * Width in steps of the trailing moving average of the per-step curves (default: a tenth of an epoch, at least
   * 1 step).
   */
  window?: number;
  /** At most this many points per per-step curve (evenly thinned, the last one kept; default 1500). */
  maxPoints?: number;
}

/**
 * Image-weighted trailing moving average: point `i` is `Σ values[j]·weights[j] / Σ weights[j]` over
 * `j = max(0, i − window + 1) … i`.
 */
export function movingAverage(values: number[], weights: number[], window: number): number[] {
  const out: number[] = [];
  let sum = 0;
  let wsum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i] * weights[i];
    wsum += weights[i];
    if (i >= window) {
      sum -= values[i - window] * weights[i - window];
      wsum -= weights[i - window];
    }
    out.push(wsum > 0 ? sum / wsum : Number.NaN);
  }
  return out;
}

/** What a loss term is, for legends: `tiny` → `tiny model`, `aug0` → `augmented model (α·loss, aug0)`. */
export function termLabel(term: string): string {
  if (term === 'tiny') return 'tiny model';
  if (/^aug\d+$/.test(term)) return `augmented model (α·loss, ${term})`;
  if (term === 'kd') return 'distillation term (kd)';
  return `${term} term`;
}

/**
 * The rows of the loss and accuracy plots of a run (see {@link plotRun}): per-step moving averages from `steps`
 * (x = epoch + (step + 1) / steps of that epoch, the end of the step), training epoch means from `history` at the
 * middle of their epoch (x = epoch + 0.5), validation figures at its end (x = epoch + 1).
 */
export function plotData(
  history: EpochRecord[],
  options: Pick<PlotOptions, 'steps' | 'window' | 'maxPoints'> = {},
): { loss: PlotRow[]; accuracy: PlotRow[]; window: number } {
  const steps = options.steps ?? [];
  const perEpoch = new Map<number, number>();
  for (const s of steps) perEpoch.set(s.epoch, Math.max(perEpoch.get(s.epoch) ?? 0, s.step + 1));
  const typical = Math.max(0, ...perEpoch.values());
  const window = Math.max(1, Math.round(options.window ?? typical / 10));
  const maxPoints = options.maxPoints ?? 1500;
  const xs = steps.map((s) => s.epoch + (s.step + 1) / perEpoch.get(s.epoch)!);
  const weights = steps.map((s) => s.images);
  const curve = (series: string, values: number[]): PlotRow[] => {
    const avg = movingAverage(values, weights, window);
    const every = Math.ceil(avg.length / maxPoints);
    return avg
      .map((value, i) => ({ x: xs[i], series, kind: 'step' as const, value }))
      .filter((_r, i) => i % every === every - 1 || i === avg.length - 1);
  };
  const terms = [
    ...new Set([
      ...steps.flatMap((s) => Object.keys(s.terms)),
      ...history.flatMap((r) => Object.keys(r.train.terms)),
    ]),
  ];
  if (!terms.includes('tiny')) terms.unshift('tiny');
  const loss: PlotRow[] = [];
  const accuracy: PlotRow[] = [];
  for (const t of terms) {
    const series = `${termLabel(t)}, train`;
    const has = steps.filter((s) => t in s.terms);
    if (has.length === steps.length && steps.length > 0)
      loss.push(
        ...curve(
          series,
          steps.map((s) => s.terms[t]),
        ),
      );
    const kind = has.length > 0 && has.length === steps.length ? 'epoch' : 'epoch-line';
    for (const r of history) {
      const v = t === 'tiny' ? (r.train.terms.tiny ?? r.train.loss) : r.train.terms[t];
      if (v !== undefined) loss.push({ x: r.epoch + 0.5, series, kind, value: v });
    }
  }
  const trainTop1 = 'tiny model, train top-1 (augmented training batches)';
  // a task without accuracy (detection) has no top-1 on its training steps
  const stepTop1 = steps.every((s) => s.top1 !== undefined);
  if (steps.length > 0 && stepTop1)
    accuracy.push(
      ...curve(
        trainTop1,
        steps.map((s) => s.top1!),
      ),
    );
  for (const r of history) {
    const e = r.epoch + 1;
    if (r.train.top1 !== undefined)
      accuracy.push({
        x: r.epoch + 0.5,
        series: trainTop1,
        kind: steps.length > 0 && stepTop1 ? 'epoch' : 'epoch-line',
        value: r.train.top1,
      });
    if (r.val && isEvalMetrics(r.val)) {
      loss.push({ x: e, series: 'tiny model, validation', kind: 'epoch-line', value: r.val.loss });
      accuracy.push(
        { x: e, series: 'tiny model, validation top-1', kind: 'epoch-line', value: r.val.top1 },
        { x: e, series: 'tiny model, validation top-5', kind: 'epoch-line', value: r.val.top5 },
      );
    } else if (r.val) {
      // a task's figures (detection: vocMAP, cocoMAP, …), in the same plot
      for (const [k, value] of Object.entries(r.val))
        if (k !== 'count')
          accuracy.push({ x: e, series: `tiny model, validation ${k}`, kind: 'epoch-line', value });
    }
  }
  return { loss, accuracy, window };
}

/** Fixed colours: the same series has the same colour in both plots and in every run. */
function seriesColor(series: string, i: number): string {
  if (series.startsWith('tiny model, train')) return '#4c78a8';
  if (series.startsWith('augmented model'))
    return ['#f58518', '#b279a2', '#9d755d'][Number(/aug(\d+)/.exec(series)?.[1] ?? 0) % 3];
  if (series.endsWith('top-5')) return '#54a24b';
  if (series.startsWith('tiny model, validation')) return '#e45756';
  return ['#72b7b2', '#eeca3b', '#ff9da6', '#bab0ac'][i % 4];
}

/** Per-step lines, epoch-mean dots and per-epoch lines, coloured by series. */
function runSpec(title: string, subtitle: string[], y: string, rows: PlotRow[]): Record<string, unknown> {
  const domain = [...new Set(rows.map((r) => r.series))];
  const layer = (kind: PlotRow['kind'], mark: Record<string, unknown>) => ({
    transform: [{ filter: `datum.kind === '${kind}'` }],
    mark,
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: title, subtitle, subtitleFontSize: 10 },
    width: 480,
    height: 280,
    data: { values: rows },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'value', type: 'quantitative', title: y, scale: { zero: false } },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        scale: { domain, range: domain.map(seriesColor) },
        legend: { orient: 'bottom', direction: 'vertical', labelLimit: 480 },
      },
    },
    layer: [
      layer('step', { type: 'line', strokeWidth: 1.2, opacity: 0.75 }),
      layer('epoch', { type: 'point', filled: true, size: 36 }),
      layer('epoch-line', { type: 'line', point: true }),
    ],
  };
}

/**
 * Writes `loss.svg/.png` and `accuracy.svg/.png` of a run folder from its metrics history and, when there is one,
 * its `steps.jsonl`:
 * - loss: the tiny model's training loss (`terms.tiny`, label smoothing included), each other term separately
 *   (NetAug's augmented model `aug0` = α·its loss, a distillation term…), the tiny model's validation loss (plain
 *   cross-entropy);
 * - accuracy: the tiny model's top-1 on the training batches (augmented data, training-mode BN), and its
 *   validation top-1 and top-5.
 * Training curves are per step, an image-weighted trailing moving average over `window` steps (default a tenth of
 * an epoch) drawn at the end of each step, with the epoch means as dots at the middle of their epoch; without
 * steps, per-epoch lines. Validation figures are drawn at the end of their epoch.
 */
export async function plotRun(
  runDir: string,
  history: EpochRecord[] = readMetrics(runDir),
  options: PlotOptions = {},
): Promise<string[]> {
  const steps = options.steps ?? readSteps(path.join(runDir, 'steps.jsonl'));
  const { loss, accuracy, window } = plotData(history, { ...options, steps });
  const how =
    steps.length > 0
      ? `training: lines per step (trailing moving average over ${window} step${window === 1 ? '' : 's'}), dots: epoch means`
      : 'per epoch';
  const a = await renderPlot(
    runSpec(
      'Loss',
      [how, 'train losses include label smoothing; validation: cross-entropy of the tiny model'],
      'loss',
      loss,
    ),
    path.join(runDir, 'loss'),
  );
  const b = await renderPlot(
    runSpec(
      'Accuracy (tiny model)',
      [how, 'train top-1: on the augmented training batches, training-mode batch norm'],
      'accuracy',
      accuracy,
    ),
    path.join(runDir, 'accuracy'),
  );
  return [a.svg, a.png, b.svg, b.png];
}

/**
 * Compares runs (e.g. baseline vs NetAug): validation top-1 of the tiny model per epoch, one line per run.
 * `runs` is a list of run folders (labelled by folder name) or `{label: folder}`. Writes `<out>.svg` and `<out>.png`.
 */
export async function plotComparison(
  runs: string[] | Record<string, string>,
  out: string,
  metric: 'val.top1' | 'val.loss' | 'train.loss' = 'val.top1',
): Promise<{ svg: string; png: string }> {
  const entries = Array.isArray(runs)
    ? runs.map((d) => [path.basename(d), d] as const)
    : Object.entries(runs);
  const rows: Row[] = [];
  for (const [label, dir] of entries) {
    for (const r of readMetrics(dir)) {
      const v = metric === 'train.loss' ? r.train.loss : metric === 'val.loss' ? r.val?.loss : r.val?.top1;
      if (v !== undefined) rows.push({ epoch: r.epoch + 1, run: label, value: v });
    }
  }
  return renderPlot(lineSpec(`Tiny model ${metric}`, metric, rows, 'run'), out);
}
