import { mkdirSync, readFileSync } from 'node:fs';
import { isNetAugError } from '@netaug/core';
import { writeFilesAtomicSync } from '@netaug/core/node';
import { join } from 'node:path';
import { timingStats } from '../bench/stats';
import { cellStates, type PlannedCell } from './cells';
import { costName, costText, equalMetric, pctText, reachText, type EqualMetricResult } from './equal-metric';
import { meanStd, pairedTest, verdict, type PairedResult } from './stats';
import { syncRecords } from './records';
import type { Study } from './spec';

/** One finished cell as the report sees it. */
export interface CellResult {
  id: string;
  arm: string;
  group: string;
  seed: number;
  runDir: string;
  hash: string;
  /** The study's metric (e.g. final test top-1); null when the run does not have it. */
  metric: number | null;
  valTop1: number | null;
  testTop1: number | null;
  /**
   * The run's validation and test value of the metric's figure ({@link metricFigure}: `vocMAP` for
   * `test.vocMAP`), the same as valTop1 / testTop1 for top-1.
   */
  valFigure: number | null;
  testFigure: number | null;
  /** The epoch whose model the run ended with (0-based), and the rule that chose it. */
  selectedEpoch: number;
  select: string;
  /**
   * Fit gap at the selected epoch: top-1 of the tiny model on the augmented training batches during that epoch
   * minus its validation top-1. Below 0 the model under-fits (it does better on clean held-out images than on
   * the data it trains on).
   */
  fitGap: number | null;
  /** The same at the last epoch. */
  fitGapLast: number | null;
  epochs: number;
  /** Wall time of the whole run (pauses and a machine shared with other work included). */
  seconds: number;
  /**
   * Median wall time of the run's epochs (training and validation; `seconds` of metrics.jsonl): a pause or an
   * interruption moves one epoch's time, not the median. Null when the epochs have no time.
   */
  epochSeconds: number | null;
  /** The study's `equalMetric.cost` of the run (e.g. the tiny model's MACs); null without it. */
  cost: number | null;
  /**
   * Per epoch: top-1 on the training batches (null for a task without it, e.g. detection), validation top-1, the
   * validation value of the metric's figure ({@link metricFigure}; the same as valTop1 for top-1) and the loss.
   */
  history: {
    epoch: number;
    trainTop1: number | null;
    valTop1: number | null;
    valFigure: number | null;
    trainLoss: number;
  }[];
}

/** Mean ± std of the metric and the fit gap of one arm within one group of levels. */
export interface ArmResult {
  arm: string;
  group: string;
  n: number;
  metric: { mean: number; std: number };
  valTop1: { mean: number; std: number } | null;
  /** Validation value of the metric's figure ({@link metricFigure}). */
  valFigure: { mean: number; std: number } | null;
  fitGap: { mean: number; std: number } | null;
  selectedEpoch: { mean: number; min: number; max: number };
  seconds: { mean: number };
  /** Mean over the arm's runs of their median epoch time; null when no run has one. */
  epochSeconds: { mean: number } | null;
}

export interface ComparisonResult extends PairedResult {
  treatment: string;
  control: string;
  group: string;
  /** The sentence the report prints: a gain or a loss only when the CI excludes 0. */
  verdict: string;
}

/** `results.json` of a study report. */
export interface StudyResults {
  study: string;
  file?: string;
  /** The folder of this report. */
  reportDir: string;
  generated: string;
  metric: string;
  higherIsBetter: boolean;
  cells: CellResult[];
  /** Cells not finished (pending, running, interrupted or failed) when the report was written. */
  unfinished: { id: string; status: string }[];
  arms: ArmResult[];
  comparisons: ComparisonResult[];
  /** Cost at equal metric (`equalMetric:` in the study file); empty without it. */
  equalMetric: EqualMetricResult[];
}

type Summary = {
  epochs: number;
  seconds: number;
  final?: {
    selected?: { epoch: number; rule: string };
    val?: { top1: number };
    test?: { top1: number };
  };
} & Record<string, unknown>;

type EpochLine = {
  epoch: number;
  seconds?: number;
  train: { top1?: number; loss: number };
  val?: { top1?: number } & Record<string, unknown>;
};

function at(o: unknown, key: string): number | undefined {
  let v: unknown = o;
  for (const k of key.split('.'))
    v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v === 'number' ? v : undefined;
}

/** Reads a finished cell's figures from its run folder. */
export function readCellResult(
  cell: { id: string; arm: string; group: string; seed: number; runDir: string; hash: string },
  metric: string,
  costPath?: string,
): CellResult {
  const summary = JSON.parse(readFileSync(join(cell.runDir, 'summary.json'), 'utf8')) as Summary;
  const figure = metricFigure(metric);
  const lines = readFileSync(join(cell.runDir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as EpochLine);
  const history = lines.map((r) => ({
    epoch: r.epoch,
    trainTop1: r.train.top1 ?? null,
    valTop1: r.val?.top1 ?? null,
    valFigure: at(r.val, figure) ?? null,
    trainLoss: r.train.loss,
  }));
  const times = lines.flatMap((r) => (typeof r.seconds === 'number' ? [r.seconds] : []));
  const epochSeconds = times.length ? timingStats(times).median : null;
  const sel = summary.final?.selected?.epoch ?? history.length - 1;
  const gap = (e: number) => {
    const r = history[e];
    return r && r.trainTop1 != null && r.valTop1 != null ? r.trainTop1 - r.valTop1 : null;
  };
  return {
    ...cell,
    metric: at(summary.final, metric) ?? at(summary, metric) ?? null,
    valTop1: summary.final?.val?.top1 ?? null,
    testTop1: summary.final?.test?.top1 ?? null,
    valFigure: at(summary.final?.val, metricFigure(metric)) ?? null,
    testFigure: at(summary.final?.test, metricFigure(metric)) ?? null,
    selectedEpoch: sel,
    select: summary.final?.selected?.rule ?? 'last',
    fitGap: gap(sel),
    fitGapLast: gap(history.length - 1),
    epochs: summary.epochs,
    seconds: summary.seconds,
    epochSeconds,
    cost: costPath ? (at(summary, costPath) ?? null) : null,
    history,
  };
}

/** Per-arm figures and the paired comparisons of a study's finished cells. */
export function analyse(
  study: Study,
  cells: CellResult[],
): Pick<StudyResults, 'arms' | 'comparisons' | 'equalMetric'> {
  const { metric, higherIsBetter } = study.spec;
  const fmt = metricFormat(metric);
  const groups = [...new Set(study.cells.map((c) => c.group))];
  const arms: ArmResult[] = [];
  for (const group of groups) {
    for (const arm of Object.keys(study.spec.arms)) {
      const rs = cells.filter((c) => c.group === group && c.arm === arm && c.metric != null);
      if (!rs.length) continue;
      const ms = meanStd(rs.map((r) => r.metric!));
      const vals = rs.filter((r) => r.valTop1 != null).map((r) => r.valTop1!);
      const figs = rs.filter((r) => r.valFigure != null).map((r) => r.valFigure!);
      const gaps = rs.filter((r) => r.fitGap != null).map((r) => r.fitGap!);
      const sel = rs.map((r) => r.selectedEpoch);
      arms.push({
        arm,
        group,
        n: rs.length,
        metric: { mean: ms.mean, std: ms.std },
        valTop1: vals.length ? meanStd(vals) : null,
        valFigure: figs.length ? meanStd(figs) : null,
        fitGap: gaps.length ? meanStd(gaps) : null,
        selectedEpoch: { mean: meanStd(sel).mean, min: Math.min(...sel), max: Math.max(...sel) },
        seconds: { mean: meanStd(rs.map((r) => r.seconds)).mean },
        epochSeconds: rs.some((r) => r.epochSeconds != null)
          ? { mean: meanStd(rs.flatMap((r) => (r.epochSeconds != null ? [r.epochSeconds] : []))).mean }
          : null,
      });
    }
  }
  const comparisons: ComparisonResult[] = [];
  for (const group of groups) {
    for (const { treatment, control } of study.spec.compare) {
      const seeds = study.spec.seeds.filter((s) =>
        [treatment, control].every((a) =>
          cells.some((c) => c.group === group && c.arm === a && c.seed === s && c.metric != null),
        ),
      );
      if (!seeds.length) continue;
      const value = (a: string, s: number) =>
        cells.find((c) => c.group === group && c.arm === a && c.seed === s)!.metric!;
      const r = pairedTest(
        seeds,
        seeds.map((s) => value(treatment, s) - value(control, s)),
      );
      comparisons.push({
        ...r,
        treatment,
        control,
        group,
        verdict: verdict(r, treatment, control, fmt.diff, higherIsBetter),
      });
    }
  }
  return { arms, comparisons, equalMetric: equalMetric(study, cells) };
}

/** A metric reported in percent (top-1, top-5, accuracy): shown ×100, its differences in points. */
function isPercent(metric: string): boolean {
  return /top[15]$|accuracy$/i.test(metric);
}

/** How the metric is printed: fractions like top-1 as percent, differences in points. */
export function metricFormat(metric: string): { value: (x: number) => string; diff: (x: number) => string } {
  const pct = isPercent(metric);
  return pct
    ? {
        value: (x) => `${(100 * x).toFixed(2)}%`,
        diff: (x) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(2)} pt`,
      }
    : {
        value: (x) => x.toPrecision(4),
        diff: (x) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toPrecision(3)}`,
      };
}

const pct = (x: number | null | undefined) => (x == null ? '—' : `${(100 * x).toFixed(2)}%`);
const pt = (x: number | null | undefined) =>
  x == null ? '—' : `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(2)} pt`;

/** The markdown report. */
export function formatStudyReport(study: Study, r: StudyResults, plots: string[]): string {
  const fmt = metricFormat(r.metric);
  const L: string[] = [];
  L.push(`# Study \`${study.name}\``, '');
  if (study.spec.description) L.push(study.spec.description.trim(), '');
  L.push(
    `Generated ${r.generated} from ${r.cells.length} finished cell(s) of ${study.cells.length}` +
      (r.file ? ` (study file \`${r.file}\`)` : '') +
      `; run folders under \`${study.out}/runs\`` +
      (study.records ? `, records of the finished cells in \`${study.records}\`` : '') +
      `. Metric compared: \`${r.metric}\`` +
      ` (${r.higherIsBetter ? 'higher' : 'lower'} is better). Seeds fixed in the study file: ${study.spec.seeds.join(', ')}.`,
    '',
  );
  if (r.unfinished.length)
    L.push(
      `**Not finished yet (${r.unfinished.length})**: ${r.unfinished.map((u) => `${u.id} (${u.status})`).join(', ')}. ` +
        'The figures below cover the finished cells only.',
      '',
    );
  if (!r.cells.length) {
    L.push('No cell has finished yet.', '');
    return L.join('\n');
  }
  // the figure shown next to the metric: top-1, or the metric's own (e.g. vocMAP of a detection study)
  const fig = metricFigure(r.metric);
  const figFmt = metricFormat(fig);
  const figText = (x: number | null) => (x == null ? '—' : fig === 'top1' ? pct(x) : figFmt.value(x));
  const figLabel = fig === 'top1' ? 'top-1' : fig;
  // a fit gap needs a top-1 on training batches; a study without one (e.g. detection) has no such column
  const hasGap = r.cells.some((c) => c.fitGap != null);
  const gapCol = (text: string) => (hasGap ? ` ${text} |` : '');
  L.push(
    '## Per arm',
    '',
    ...(hasGap
      ? [
          'Fit gap = top-1 of the tiny model on its augmented training batches during the selected epoch − its ' +
            'validation top-1 at that epoch. Below 0 the model under-fits.',
          '',
        ]
      : []),
    `| levels | arm | n | ${r.metric} (mean ± std) | val ${figLabel} |${gapCol('fit gap')} selected epoch | time per run | median epoch |`,
    `|---|---|---|---|---|${hasGap ? '---|' : ''}---|---|---|`,
  );
  for (const a of r.arms) {
    // a standard deviation needs two runs
    const pm = (std: string) => (a.n > 1 ? ` ± ${std}` : '');
    const val = fig === 'top1' ? a.valTop1 : a.valFigure;
    L.push(
      `| ${a.group || '—'} | ${a.arm} | ${a.n} | ${fmt.value(a.metric.mean)}${pm(stdText(r.metric, a.metric.std))} | ` +
        `${val ? `${figText(val.mean)}${pm(stdText(fig, val.std))}` : '—'} | ` +
        (hasGap
          ? `${a.fitGap ? `${pt(a.fitGap.mean)}${pm((100 * a.fitGap.std).toFixed(2))}` : '—'} | `
          : '') +
        `${a.selectedEpoch.min === a.selectedEpoch.max ? a.selectedEpoch.min + 1 : `${a.selectedEpoch.min + 1}–${a.selectedEpoch.max + 1}`} | ` +
        `${(a.seconds.mean / 60).toFixed(0)} min | ` +
        `${a.epochSeconds ? `${a.epochSeconds.mean < 100 ? a.epochSeconds.mean.toFixed(1) : a.epochSeconds.mean.toFixed(0)} s` : '—'} |`,
    );
  }
  L.push(
    '',
    'Time per run: wall time of the whole run (mean over its seeds), pauses and other work on the machine ' +
      "included. Median epoch: each run's median epoch wall time (training and validation), mean over its seeds; " +
      'a pause or an interruption moves one epoch, not the median.',
    '',
  );
  if (r.comparisons.length) {
    L.push('## Paired comparisons', '');
    for (const c of r.comparisons) {
      L.push(`### ${c.treatment} − ${c.control}${c.group ? ` (${c.group})` : ''}`, '');
      L.push(`| seed | ${c.treatment} | ${c.control} | difference |`, '|---|---|---|---|');
      c.seeds.forEach((s, i) => {
        const v = (a: string) =>
          r.cells.find((x) => x.group === c.group && x.arm === a && x.seed === s)!.metric!;
        L.push(
          `| ${s} | ${fmt.value(v(c.treatment))} | ${fmt.value(v(c.control))} | ${fmt.diff(c.diffs[i])} |`,
        );
      });
      L.push(
        '',
        `Mean difference ${fmt.diff(c.mean)}, std ${stdText(r.metric, c.std)}, n = ${c.n}` +
          (c.ci95 ? `, 95% CI [${fmt.diff(c.ci95[0])}, ${fmt.diff(c.ci95[1])}]` : '') +
          (c.t != null
            ? `, paired t = ${c.t.toFixed(2).replace('-', '−')} (df ${c.n - 1}), p = ${c.p!.toPrecision(2)}`
            : '') +
          `; ${c.treatment} ahead in ${c.wins} of ${c.n} seeds.`,
        '',
        c.verdict,
        '',
      );
    }
  } else if (study.spec.compare.length) {
    L.push('## Paired comparisons', '', 'No seed has both arms of a comparison finished yet.', '');
  }
  if (r.equalMetric.length) L.push(...equalMetricSection(r));
  if (plots.length) {
    L.push('## Plots', '');
    for (const p of plots) L.push(`![${p}](${p}.png)`, '');
  }
  L.push(
    '## Cells',
    '',
    `| cell | val ${figLabel} | test ${figLabel} | selected epoch |${gapCol('fit gap')} run folder |`,
    `|---|---|---|---|${hasGap ? '---|' : ''}---|`,
  );
  for (const c of r.cells)
    L.push(
      `| ${c.id} | ${figText(fig === 'top1' ? c.valTop1 : c.valFigure)} | ${figText(fig === 'top1' ? c.testTop1 : c.testFigure)} | ${c.selectedEpoch + 1}/${c.epochs} (${c.select}) |${gapCol(pt(c.fitGap))} \`${c.runDir}\` |`,
    );
  L.push('');
  return L.join('\n');
}

/** The report's section on cost at equal metric. */
function equalMetricSection(r: StudyResults): string[] {
  const fmt = metricFormat(r.metric);
  const { factor, cost } = r.equalMetric[0];
  const name = costName(cost);
  const L = [
    `## ${name} at equal ${r.metric}`,
    '',
    `For each ${factor} of an arm, the ${name} its control needs for the same mean \`${r.metric}\`, read off the ` +
      `control's curve of mean \`${r.metric}\` against ${name} over its ${factor}s (linear in log ${name} between ` +
      `neighbouring ${factor}s; nothing is extrapolated beyond them). Saving = 1 − the arm's ${name} / the ` +
      `${name} the control needs. Per seed, the same on that seed's own curves; its 95% CI is over seeds.`,
    '',
  ];
  for (const e of r.equalMetric) {
    L.push(`### ${e.treatment} vs ${e.control}${e.group ? ` (${e.group})` : ''}`, '');
    L.push(
      `| ${factor} | ${e.treatment} ${name} | ${e.treatment} ${r.metric} | ${e.control} ${r.metric} | ${e.control} needs | saving | per seed |`,
      '|---|---|---|---|---|---|---|',
    );
    const ctl = e.curves.find((c) => c.arm === e.control)!.points;
    for (const row of e.rows) {
      const own = ctl.find((p) => p.level === row.level);
      L.push(
        `| ${row.level} | ${costText(row.cost)} | ${fmt.value(row.metric)} | ${own ? fmt.value(own.metric) : '—'} | ` +
          `${reachText(row.control, factor)} | ${row.saving == null ? '—' : pctText(row.saving)} | ` +
          `${row.perSeed.map((s) => `s${s.seed}: ${s.saving == null ? s.control.kind : pctText(s.saving)}`).join(', ') || '—'} |`,
      );
    }
    L.push('');
    for (const row of e.rows) L.push(`- ${row.verdict}`);
    L.push('');
  }
  return L;
}

/**
 * The figure a metric names, shown for validation and test next to it: `vocMAP` for `test.vocMAP`, `top1` for
 * `test.top1` and for metrics that are not a final figure (`model.macs`, `seconds`).
 */
export function metricFigure(metric: string): string {
  const m = /^(?:test|val)\.(.+)$/.exec(metric);
  return m ? m[1] : 'top1';
}

function stdText(metric: string, std: number): string {
  return isPercent(metric) ? `${(100 * std).toFixed(2)}` : std.toPrecision(3);
}

/** `regime=tiny,lr=0.1` → `tiny, lr=0.1`: a single factor's name is left out. */
function levelsText(group: string): string {
  const parts = group.split(',');
  return parts.length === 1 ? parts[0].split('=').slice(1).join('=') : parts.join(', ');
}

/** Writes the study's plots (PNG + SVG) into `dir`; returns their base names. */
async function writePlots(dir: string, r: StudyResults): Promise<string[]> {
  const { renderPlot } = await import('@netaug/trainer');
  const out: string[] = [];
  const groups = [...new Set(r.cells.map((c) => c.group))];
  // top-1: validation and training batches (the fit gap as a picture); another metric (e.g. a detector's
  // vocMAP, which has no training-batch counterpart): its validation value per epoch
  const fig = metricFigure(r.metric);
  const top1 = fig === 'top1';
  for (const group of groups) {
    const rows = r.cells
      .filter((c) => c.group === group)
      .flatMap((c) =>
        c.history.flatMap((h) =>
          top1
            ? [
                { arm: c.arm, series: `${c.arm} val`, epoch: h.epoch + 1, value: h.valTop1 },
                { arm: c.arm, series: `${c.arm} train batches`, epoch: h.epoch + 1, value: h.trainTop1 },
              ]
            : [{ arm: c.arm, series: `${c.arm} val ${fig}`, epoch: h.epoch + 1, value: h.valFigure }],
        ),
      )
      .filter((x) => x.value != null);
    if (!rows.length) continue; // the metric is not in the per-epoch validation figures
    const name =
      groups.length > 1 ? `curves-${levelsText(group).replace(/[^A-Za-z0-9_.-]+/g, '_')}` : 'curves';
    await renderPlot(
      {
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        title: `${top1 ? 'Top-1' : `Validation ${fig}`} of the tiny model per epoch, mean ± std over seeds${group ? ` (${levelsText(group)})` : ''}`,
        width: 520,
        height: 300,
        data: { values: rows },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
          color: { field: 'series', type: 'nominal', title: null, legend: { labelLimit: 400 } },
        },
        layer: [
          {
            mark: { type: 'errorband', extent: 'stdev', opacity: 0.25 },
            encoding: {
              y: {
                field: 'value',
                type: 'quantitative',
                title: top1 ? 'top-1' : fig,
                scale: { zero: false },
              },
            },
          },
          {
            mark: { type: 'line' },
            encoding: { y: { aggregate: 'mean', field: 'value', type: 'quantitative' } },
          },
        ],
      },
      join(dir, name),
    );
    out.push(name);
  }
  if (r.comparisons.length) {
    const label = (c: ComparisonResult) =>
      `${c.treatment} − ${c.control}${c.group ? ` · ${levelsText(c.group)}` : ''}`;
    // in the report's own units: points for a percentage, the metric's scale otherwise (e.g. vocMAP)
    const k = isPercent(r.metric) ? 100 : 1;
    const points = r.comparisons.flatMap((c) =>
      c.diffs.map((d, i) => ({ comparison: label(c), seed: c.seeds[i], diff: k * d })),
    );
    const cis = r.comparisons
      .filter((c) => c.ci95)
      .map((c) => ({ comparison: label(c), lo: k * c.ci95![0], hi: k * c.ci95![1], mean: k * c.mean }));
    await renderPlot(
      {
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        title: `Paired difference per seed (${r.metric}${k === 100 ? ', points' : ''}) with the 95% CI of the mean`,
        width: 520,
        height: { step: 40 },
        layer: [
          {
            data: { values: [{ zero: 0 }] },
            mark: { type: 'rule', strokeDash: [4, 4] },
            encoding: { x: { field: 'zero', type: 'quantitative' } },
          },
          {
            data: { values: cis },
            mark: { type: 'rule', strokeWidth: 2 },
            encoding: {
              y: { field: 'comparison', type: 'nominal', title: null, axis: { labelLimit: 400 } },
              x: {
                field: 'lo',
                type: 'quantitative',
                title: k === 100 ? 'difference (points)' : 'difference',
              },
              x2: { field: 'hi' },
            },
          },
          {
            data: { values: cis },
            mark: { type: 'tick', thickness: 3, size: 18 },
            encoding: {
              y: { field: 'comparison', type: 'nominal' },
              x: { field: 'mean', type: 'quantitative' },
            },
          },
          {
            data: { values: points },
            mark: { type: 'point', filled: true, size: 50, opacity: 0.7 },
            encoding: {
              y: { field: 'comparison', type: 'nominal' },
              x: { field: 'diff', type: 'quantitative' },
              tooltip: [{ field: 'seed' }],
            },
          },
        ],
      },
      join(dir, 'paired'),
    );
    out.push('paired');
  }
  if (r.equalMetric.length) {
    const { cost } = r.equalMetric[0];
    const name = costName(cost);
    const label = (arm: string, group: string) => `${arm}${group ? ` · ${levelsText(group)}` : ''}`;
    const means = r.equalMetric.flatMap((e) =>
      e.curves.flatMap((c) =>
        c.points.map((p) => ({
          series: label(c.arm, e.group),
          level: p.level,
          cost: p.cost,
          metric: p.metric,
        })),
      ),
    );
    // every finished run once, though an arm may be in several comparisons
    const seeds = [
      ...new Map(
        r.equalMetric.flatMap((e) =>
          e.curves.flatMap((c) =>
            c.runs.map((p) => {
              const series = label(c.arm, e.group);
              return [
                `${series}|${p.seed}|${p.level}`,
                { series, seed: p.seed, cost: p.cost, metric: p.metric },
              ];
            }),
          ),
        ),
      ).values(),
    ];
    await renderPlot(
      {
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        title: `${r.metric} against the tiny model's ${name} (lines: means over seeds; points: seeds)`,
        width: 520,
        height: 300,
        encoding: {
          x: {
            field: 'cost',
            type: 'quantitative',
            title: `${name} (log scale)`,
            scale: { type: 'log', nice: false, padding: 20 },
            axis: { format: '~s' },
          },
          y: { field: 'metric', type: 'quantitative', title: r.metric, scale: { zero: false } },
          color: { field: 'series', type: 'nominal', title: null, legend: { labelLimit: 400 } },
        },
        layer: [
          { data: { values: means }, mark: { type: 'line', point: true } },
          {
            data: { values: seeds },
            mark: { type: 'point', opacity: 0.6, size: 30 },
            encoding: { tooltip: [{ field: 'seed' }] },
          },
        ],
      },
      join(dir, 'equal-metric'),
    );
    out.push('equal-metric');
  }
  const gaps = r.cells
    .filter((c) => c.fitGap != null)
    .map((c) => ({ arm: `${c.arm}${c.group ? ` · ${levelsText(c.group)}` : ''}`, gap: 100 * c.fitGap! }));
  if (gaps.length) {
    await renderPlot(
      {
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        title: 'Fit gap per arm: train top-1 on augmented data − validation top-1 (points; < 0: under-fits)',
        width: 520,
        height: { step: 30 },
        layer: [
          {
            data: { values: [{ zero: 0 }] },
            mark: { type: 'rule', strokeDash: [4, 4] },
            encoding: { x: { field: 'zero', type: 'quantitative' } },
          },
          {
            data: { values: gaps },
            mark: { type: 'bar', opacity: 0.5 },
            encoding: {
              y: { field: 'arm', type: 'nominal', title: null, axis: { labelLimit: 400 } },
              x: { aggregate: 'mean', field: 'gap', type: 'quantitative', title: 'fit gap (points)' },
            },
          },
          {
            data: { values: gaps },
            mark: { type: 'point', filled: true, size: 40 },
            encoding: { y: { field: 'arm', type: 'nominal' }, x: { field: 'gap', type: 'quantitative' } },
          },
        ],
      },
      join(dir, 'fit-gap'),
    );
    out.push('fit-gap');
  }
  return out;
}

/**
 * Builds a study's report from its finished run folders (and records): `report.md`, `results.json`, plots. With
 * `records:`, finished cells not recorded yet are recorded first ({@link syncRecords}).
 */
export async function writeStudyReport(
  study: Study,
  cells: PlannedCell[],
  dir = join(study.out, 'reports', study.name),
): Promise<{ dir: string; results: StudyResults; markdown: string }> {
  const states = cellStates(cells, study.out, study.records);
  syncRecords(study, states);
  const done = states.filter((s) => s.status === 'done');
  const finished = done.map((s) => readCellResult(s.cell, study.spec.metric, study.spec.equalMetric?.cost));
  const results: StudyResults = {
    study: study.name,
    ...(study.file ? { file: study.file } : {}),
    reportDir: dir,
    generated: new Date().toISOString(),
    metric: study.spec.metric,
    higherIsBetter: study.spec.higherIsBetter,
    cells: finished,
    unfinished: states.filter((s) => s.status !== 'done').map((s) => ({ id: s.cell.id, status: s.status })),
    ...analyse(study, finished),
  };
  mkdirSync(dir, { recursive: true });
  let plots: string[] = [];
  try {
    if (finished.length) plots = await writePlots(dir, results);
  } catch (e) {
    // the plotting stack is optional: the report and results.json are written without figures
    if (!isNetAugError(e) || e.code !== 'MISSING_DEPENDENCY') throw e;
    process.emitWarning(`study plots skipped: ${e.message}`, { code: 'NETAUG_PLOTS_SKIPPED' });
  }
  const markdown = formatStudyReport(study, results, plots);
  writeFilesAtomicSync([
    { file: join(dir, 'results.json'), bytes: JSON.stringify(results, null, 2) + '\n' },
    { file: join(dir, 'report.md'), bytes: markdown },
  ]);
  return { dir, results, markdown };
}
