/**
 * Cost at equal metric — the paper's way of stating a gain across model sizes ("at the same mAP, 41% fewer
 * MACs"): a factor of the study (e.g. `width`) trades a cost (the tiny model's MACs) for the metric; for each level
 * of the treatment, the control's curve of metric against cost says what cost the control needs for the
 * treatment's metric. Between two measured levels the curve is linear in log cost; outside them nothing is
 * extrapolated (the result says "below" or "above" the control's measured range instead).
 */
import type { CellResult } from './report';
import { meanStd, pairedTest, type PairedResult } from './stats';
import type { Study } from './spec';

/** One level of an arm: its cost and its metric. */
export interface CurvePoint {
  level: string;
  cost: number;
  metric: number;
}

/** One finished run: its seed, level, cost and metric. */
export interface RunPoint extends CurvePoint {
  seed: number;
}

/**
 * Where the control's curve reaches a metric value: `at` an interpolated cost (between two levels, or at one),
 * `below` its cheapest level (which already reaches it: the cost needed is at most `cost`), or `above` its
 * dearest level (no measured level reaches it: the cost needed is more than `cost`).
 */
export type Reach =
  | { kind: 'at'; cost: number; between: [string, string] }
  | { kind: 'below'; cost: number; level: string }
  | { kind: 'above'; cost: number; level: string };

/**
 * The least cost at which the piecewise curve through `points` (linear in log cost between neighbours, by
 * increasing cost) reaches `target`: the first crossing from the cheapest level up.
 */
export function costToReach(points: CurvePoint[], target: number, higherIsBetter = true): Reach {
  if (!points.length) throw new RangeError('costToReach needs at least one point');
  const ps = [...points].sort((a, b) => a.cost - b.cost);
  const s = higherIsBetter ? 1 : -1;
  const reaches = (m: number) => s * m >= s * target;
  if (reaches(ps[0].metric)) {
    return ps[0].metric === target
      ? { kind: 'at', cost: ps[0].cost, between: [ps[0].level, ps[0].level] }
      : { kind: 'below', cost: ps[0].cost, level: ps[0].level };
  }
  for (let i = 0; i + 1 < ps.length; i++) {
    const [a, b] = [ps[i], ps[i + 1]];
    if (!reaches(b.metric)) continue;
    // a does not reach the target (else an earlier segment or the first point would have), b does
    const t = (target - a.metric) / (b.metric - a.metric);
    if (t === 1) return { kind: 'at', cost: b.cost, between: [a.level, b.level] };
    const cost = Math.exp(Math.log(a.cost) + t * (Math.log(b.cost) - Math.log(a.cost)));
    return { kind: 'at', cost, between: [a.level, b.level] };
  }
  const last = ps[ps.length - 1];
  return { kind: 'above', cost: last.cost, level: last.level };
}

/** One level of the treatment, compared with the control's curve. */
export interface EqualMetricRow {
  level: string;
  /** The treatment's cost and metric at this level (means over its finished seeds). */
  cost: number;
  metric: number;
  /** Where the control's mean curve reaches that metric. */
  control: Reach;
  /** 1 − treatment cost / control cost, where the control's curve reaches the metric; else null. */
  saving: number | null;
  /** The same on each seed's own curves (seeds where both arms finished every level). */
  perSeed: { seed: number; metric: number; control: Reach; saving: number | null }[];
  /** t statistics of the per-seed savings (n ≥ 2, every seed's control curve reaching the metric); else null. */
  savingTest: PairedResult | null;
  /** The sentence the report prints for this level; a saving is claimed only when its CI excludes 0. */
  verdict: string;
}

/** Cost at equal metric of one comparison within one combination of the other factors' levels. */
export interface EqualMetricResult {
  treatment: string;
  control: string;
  factor: string;
  /** The cost's path in the runs' summaries (`model.macs`). */
  cost: string;
  /** Levels of the other factors (`regime=tiny`), '' when the factor is the only one. */
  group: string;
  /** Mean cost and metric per level of each arm, and every finished run's own (`runs`, for the plot). */
  curves: { arm: string; points: CurvePoint[]; runs: RunPoint[] }[];
  rows: EqualMetricRow[];
}

/** The cost's name in sentences: MACs, parameters, or the path itself. */
export function costName(path: string): string {
  return path === 'model.macs' ? 'MACs' : path === 'model.params' ? 'parameters' : path;
}

/** 7,770,000 → "7.77M". */
export function costText(x: number): string {
  const units: [number, string][] = [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [u, s] of units) if (Math.abs(x) >= u) return `${(x / u).toPrecision(3)}${s}`;
  return x.toPrecision(3);
}

/** 0.293 → "29.3%", −0.149 → "−14.9%". */
export const pctText = (x: number) => `${x < 0 ? '−' : ''}${Math.abs(100 * x).toFixed(1)}%`;
const pct = pctText;

/** Where a reach is, in words. */
export function reachText(r: Reach, factor: string, unit = ''): string {
  const c = `${costText(r.cost)}${unit ? ` ${unit}` : ''}`;
  if (r.kind === 'at')
    return r.between[0] === r.between[1]
      ? `${c} (${factor} ${r.between[0]})`
      : `${c} (between ${factor} ${r.between[0]} and ${r.between[1]})`;
  return r.kind === 'below'
    ? `≤ ${c} (its ${factor} ${r.level} already reaches it)`
    : `> ${c} (none of its ${factor}s reaches it)`;
}

/**
 * The equal-metric analysis of a study with `equalMetric: { factor, cost }`: for every comparison and every
 * combination of the other factors' levels, the treatment's levels read off the control's curve.
 */
export function equalMetric(study: Study, cells: CellResult[]): EqualMetricResult[] {
  const em = study.spec.equalMetric;
  if (!em) return [];
  const { higherIsBetter } = study.spec;
  // a cell's level of the factor, and its levels of the other factors
  const byId = new Map(study.cells.map((c) => [c.id, c]));
  const levelsOf = (id: string) => byId.get(id)?.levels ?? [];
  const levelOf = (c: { id: string }) => levelsOf(c.id).find((l) => l.factor === em.factor)?.level;
  const restOf = (c: { id: string }) =>
    levelsOf(c.id)
      .filter((l) => l.factor !== em.factor)
      .map((l) => `${l.factor}=${l.level}`)
      .join(',');
  // the factor's levels in the study file's order
  const levels = [...new Set(study.cells.map((c) => levelOf(c)!))];
  const rests = [...new Set(study.cells.map((c) => restOf(c)))];
  const usable = cells.filter((c) => c.metric != null && c.cost != null);
  // an arm's finished runs at these levels of the other factors
  const runsOf = (arm: string, rest: string): RunPoint[] =>
    usable
      .filter((c) => c.arm === arm && restOf(c) === rest)
      .map((c) => ({ seed: c.seed, level: levelOf(c)!, cost: c.cost!, metric: c.metric! }));
  // mean cost and metric per level of these runs (of one seed, if given), in the factor's order
  const curve = (runs: RunPoint[], seed?: number): CurvePoint[] =>
    levels.flatMap((level) => {
      const rs = runs.filter((r) => r.level === level && (seed == null || r.seed === seed));
      return rs.length
        ? [
            {
              level,
              cost: meanStd(rs.map((r) => r.cost)).mean,
              metric: meanStd(rs.map((r) => r.metric)).mean,
            },
          ]
        : [];
    });
  const out: EqualMetricResult[] = [];
  for (const { treatment, control } of study.spec.compare) {
    for (const rest of rests) {
      const tRuns = runsOf(treatment, rest);
      const cRuns = runsOf(control, rest);
      const t = curve(tRuns);
      const c = curve(cRuns);
      if (!t.length || !c.length) continue;
      // seeds with every level of both arms finished, with their own curves (computed once per seed)
      const seedCurves = study.spec.seeds
        .map((seed) => ({ seed, t: curve(tRuns, seed), c: curve(cRuns, seed) }))
        .filter((x) => x.t.length === levels.length && x.c.length === levels.length);
      const rows = t.map((p): EqualMetricRow => {
        const reach = costToReach(c, p.metric, higherIsBetter);
        const perSeed = seedCurves.map(({ seed, t: ts, c: cs }) => {
          const tp = ts.find((q) => q.level === p.level)!;
          const r = costToReach(cs, tp.metric, higherIsBetter);
          return {
            seed,
            metric: tp.metric,
            control: r,
            saving: r.kind === 'at' ? 1 - tp.cost / r.cost : null,
          };
        });
        const savings = perSeed.map((x) => x.saving);
        const savingTest =
          perSeed.length >= 2 && savings.every((x) => x != null)
            ? pairedTest(
                perSeed.map((x) => x.seed),
                savings as number[],
              )
            : null;
        const row = {
          level: p.level,
          cost: p.cost,
          metric: p.metric,
          control: reach,
          saving: reach.kind === 'at' ? 1 - p.cost / reach.cost : null,
          perSeed,
          savingTest,
        };
        return { ...row, verdict: equalMetricVerdict(row, treatment, control, em.factor, costName(em.cost)) };
      });
      out.push({
        treatment,
        control,
        factor: em.factor,
        cost: em.cost,
        group: rest,
        curves: [
          { arm: treatment, points: t, runs: tRuns },
          { arm: control, points: c, runs: cRuns },
        ],
        rows,
      });
    }
  }
  return out;
}

/** What one row supports, in words: fewer or more of the cost only when the per-seed CI excludes 0. */
export function equalMetricVerdict(
  row: Omit<EqualMetricRow, 'verdict'>,
  treatment: string,
  control: string,
  factor: string,
  cost: string,
): string {
  const at = `At ${factor} ${row.level} (${costText(row.cost)} ${cost})`;
  if (row.control.kind !== 'at') {
    return row.control.kind === 'below'
      ? `${at}: ${control}'s smallest measured model already reaches ${treatment}'s metric, so ${treatment} saves no ${cost} there (${control} would need ${reachText(row.control, factor, cost)}).`
      : `${at}: none of ${control}'s measured models reaches ${treatment}'s metric, so the ${cost} it would need are above ${costText(row.control.cost)}; no figure is extrapolated.`;
  }
  const point = `${control} needs ${reachText(row.control, factor, cost)} for ${treatment}'s mean metric: ${treatment} uses ${pct(Math.abs(row.saving!))} ${row.saving! >= 0 ? 'fewer' : 'more'}`;
  const t = row.savingTest;
  if (!t || !t.ci95) {
    const inRange = row.perSeed.filter((s) => s.saving != null).length;
    return `${at}: ${point}; per seed ${row.perSeed.length ? `${inRange} of ${row.perSeed.length} seeds inside ${control}'s measured range` : 'not available'}, so no interval and no claim.`;
  }
  const ci = `per-seed savings ${pct(t.mean)}, 95% CI [${pct(t.ci95[0])}, ${pct(t.ci95[1])}], n = ${t.n}`;
  if (t.ci95[0] > 0) return `${at}: ${point} (${ci}; the interval excludes 0).`;
  if (t.ci95[1] < 0)
    return `${at}: ${point} — ${treatment} needs more ${cost} than ${control} for equal metric (${ci}; the interval excludes 0).`;
  return `${at}: ${point}, but no difference is shown (${ci}; the interval includes 0).`;
}
