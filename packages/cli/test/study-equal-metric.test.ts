/**
 * Cost at equal metric (`equalMetric:` in a study file): the control's curve read in log cost on hand-worked
 * cases, the per-seed savings and their CI against a hand computation, the sentences a report may say, and the
 * report written from run folders (summary.json's `model.macs`).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planCells } from '../src/study/cells';
import { costToReach, equalMetric, type CurvePoint } from '../src/study/equal-metric';
import type { CellResult } from '../src/study/report';
import { writeStudyReport } from '../src/study/report';
import { buildStudy } from '../src/study/spec';

const tmp = mkdtempSync(join(tmpdir(), 'netaug-equal-metric-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const M = 1e6;
const curve: CurvePoint[] = [
  { level: '0.5', cost: 4 * M, metric: 0.8 },
  { level: '0.25', cost: 1 * M, metric: 0.5 },
  { level: '0.35', cost: 2 * M, metric: 0.6 },
];

describe('costToReach', () => {
  it('interpolates linearly in log cost between the neighbouring levels (points in any order)', () => {
    // 0.55 is halfway from 0.5 (1M) to 0.6 (2M): exp((ln 1M + ln 2M) / 2) = √2 M
    const a = costToReach(curve, 0.55);
    expect(a).toEqual({ kind: 'at', cost: expect.any(Number), between: ['0.25', '0.35'] });
    expect(a.cost).toBeCloseTo(Math.SQRT2 * M, 3);
    // 0.7 is halfway from 0.6 (2M) to 0.8 (4M): 2√2 M
    expect(costToReach(curve, 0.7).cost).toBeCloseTo(2 * Math.SQRT2 * M, 3);
    // a quarter of the way: 2^0.25 M
    expect(costToReach(curve, 0.525).cost).toBeCloseTo(2 ** 0.25 * M, 3);
  });

  it('a measured level is hit exactly; below the cheapest and above the dearest level nothing is extrapolated', () => {
    expect(costToReach(curve, 0.6)).toEqual({ kind: 'at', cost: 2 * M, between: ['0.25', '0.35'] });
    expect(costToReach(curve, 0.5)).toEqual({ kind: 'at', cost: 1 * M, between: ['0.25', '0.25'] });
    expect(costToReach(curve, 0.45)).toEqual({ kind: 'below', cost: 1 * M, level: '0.25' });
    expect(costToReach(curve, 0.9)).toEqual({ kind: 'above', cost: 4 * M, level: '0.5' });
  });

  it('a curve that falls again: the first crossing from the cheapest level up', () => {
    const bumpy: CurvePoint[] = [
      { level: 'a', cost: 1 * M, metric: 0.5 },
      { level: 'b', cost: 2 * M, metric: 0.7 },
      { level: 'c', cost: 4 * M, metric: 0.6 },
    ];
    // 0.65 is crossed between a and b (t = 0.75) before c
    expect(costToReach(bumpy, 0.65).cost).toBeCloseTo(2 ** 0.75 * M, 3);
    expect(costToReach(bumpy, 0.75).kind).toBe('above');
  });

  it('lower is better (a loss): reaching means going down to the target', () => {
    const loss: CurvePoint[] = [
      { level: 's', cost: 1 * M, metric: 2.0 },
      { level: 'l', cost: 2 * M, metric: 1.5 },
    ];
    expect(costToReach(loss, 1.75, false).cost).toBeCloseTo(Math.SQRT2 * M, 3);
    expect(costToReach(loss, 2.5, false).kind).toBe('below');
    expect(costToReach(loss, 1.0, false).kind).toBe('above');
  });
});

const spec = {
  name: 'em',
  out: join(tmp, 'out'),
  base: { model: 'mobilenetv2', data: 'fashion-mnist', epochs: 1, subset: 100, backend: 'cpu' },
  seeds: [0, 1, 2],
  factors: { width: [0.25, 0.35, 0.5] },
  metric: 'test.vocMAP',
  equalMetric: { factor: 'width' },
};

// baseline, seed s: 0.50 + 0.01 s at 1M MACs, 0.60 + 0.01 s at 2M, 0.80 + 0.01 s at 4M.
// netaug at width 0.25 lies a fraction f_s of the way from the baseline's 1M point to its 2M point (f = 0.5, 0.25,
// 0.4, 0.6): the baseline needs 2^f_s M MACs, a saving of 1 − 2^−f_s. At 0.35 it is 0.01 (s + 1) below the
// baseline's own 0.35 point (a loss, not shown by its CI); at 0.5 above every baseline point (nothing extrapolated).
const COST: Record<string, number> = { '0.25': 1 * M, '0.35': 2 * M, '0.5': 4 * M };
const BASE: Record<string, number> = { '0.25': 0.5, '0.35': 0.6, '0.5': 0.8 };
const F = [0.5, 0.4, 0.6];
function metricOf(arm: string, width: string, seed: number): number {
  if (arm === 'baseline') return BASE[width] + 0.01 * seed;
  if (width === '0.25') return 0.5 + 0.01 * seed + 0.1 * F[seed];
  if (width === '0.35') return 0.6 + 0.01 * seed - 0.01 * (seed + 1);
  return 0.85 + 0.01 * seed;
}

/** The figures of a cell as the report reads them (only what the analysis uses). */
const cellResult = (c: {
  id: string;
  arm: string;
  group: string;
  seed: number;
  levels: { level: string }[];
}) =>
  ({
    id: c.id,
    arm: c.arm,
    group: c.group,
    seed: c.seed,
    metric: metricOf(c.arm, c.levels[0].level, c.seed),
    cost: COST[c.levels[0].level],
  }) as CellResult;

describe('equalMetric', () => {
  it('per level: the mean curves, the per-seed savings with their CI, and what the report may say', () => {
    const study = buildStudy(spec);
    const cells = study.cells.map(cellResult);
    const [e] = equalMetric(study, cells);
    expect(e).toMatchObject({
      treatment: 'netaug',
      control: 'baseline',
      factor: 'width',
      cost: 'model.macs',
      group: '',
    });
    const [w25, w35, w50] = e.rows;
    // every finished run of each arm, as the plot draws them: 3 widths × 3 seeds, with its own figures
    expect(e.curves.map((c) => [c.arm, c.runs.length])).toEqual([
      ['netaug', 9],
      ['baseline', 9],
    ]);
    expect(e.curves[1].runs).toContainEqual({
      seed: 2,
      level: '0.5',
      cost: 4 * M,
      metric: expect.closeTo(0.82, 12),
    });

    // width 0.25, mean curves: netaug mean (0.55 + 0.55 + 0.58) / 3 = 0.56, the baseline's mean curve 0.51 → 0.61
    // between 1M and 2M: halfway, √2 M; saving 1 − 1/√2
    expect(w25.metric).toBeCloseTo(0.56, 12);
    expect(w25.control.kind).toBe('at');
    expect(w25.control.cost).toBeCloseTo(Math.SQRT2 * M, 3);
    expect(w25.saving).toBeCloseTo(1 - Math.SQRT1_2, 9);
    // per seed: 1 − 2^−f
    const savings = F.map((f) => 1 - 2 ** -f);
    w25.perSeed.forEach((s, i) => expect(s.saving).toBeCloseTo(savings[i], 9));
    // their mean and 95% CI by hand: mean ± t(0.975, 2) · sd / √3
    const mean = savings.reduce((a, b) => a + b) / 3;
    const sd = Math.sqrt(savings.reduce((a, b) => a + (b - mean) ** 2, 0) / 2);
    const half = (4.30265273 * sd) / Math.sqrt(3);
    expect(w25.savingTest!.mean).toBeCloseTo(mean, 12);
    expect(w25.savingTest!.ci95![0]).toBeCloseTo(mean - half, 6);
    expect(w25.savingTest!.ci95![1]).toBeCloseTo(mean + half, 6);
    expect(mean - half).toBeGreaterThan(0); // 0.292 ± 0.122: checked here, not assumed
    expect(w25.verdict).toMatch(
      /^At width 0\.25 \(1\.00M MACs\): baseline needs 1\.41M MACs \(between width 0\.25 and 0\.35\)/,
    );
    expect(w25.verdict).toContain('netaug uses 29.3% fewer');
    expect(w25.verdict).toContain('the interval excludes 0');

    // width 0.35: seed s is 0.01 (s + 1) below the baseline's own 0.35 point: the baseline reaches it below 2M
    // MACs (t = 0.9, 0.8, 0.7 from 1M), so netaug needs more — savings 1 − 2^0.1, 1 − 2^0.2, 1 − 2^0.3, mean
    // −0.1505, CI [−0.3485, +0.0475]: no claim. Mean curves: 0.59 on 0.51 → 0.61, t = 0.8: 1 − 2^0.2 = −14.9%.
    expect(w35.control.cost).toBeCloseTo(2 ** 0.8 * M, 3);
    expect(w35.saving).toBeCloseTo(1 - 2 ** 0.2, 9);
    w35.perSeed.forEach((s, i) => expect(s.saving).toBeCloseTo(1 - 2 ** (0.1 * (i + 1)), 9));
    expect(w35.savingTest!.ci95![0]).toBeCloseTo(-0.3485, 3);
    expect(w35.savingTest!.ci95![1]).toBeCloseTo(0.0475, 3);
    expect(w35.verdict).toContain('netaug uses 14.9% more');
    expect(w35.verdict).toContain('but no difference is shown');
    expect(w35.verdict).toContain('the interval includes 0');

    // width 0.5: above every baseline point: no figure, no claim
    expect(w50.control).toEqual({ kind: 'above', cost: 4 * M, level: '0.5' });
    expect(w50.saving).toBeNull();
    expect(w50.savingTest).toBeNull();
    expect(w50.verdict).toMatch(
      /none of baseline's measured models reaches netaug's metric.*no figure is extrapolated/,
    );
  });

  it('a seed with a level missing gets no per-seed curve; one seed left gives no interval and no claim', () => {
    const study = buildStudy(spec);
    const cells = study.cells
      .filter((c) => c.seed === 0 || !(c.arm === 'baseline' && c.levels[0].level === '0.5'))
      .filter((c) => c.seed !== 2)
      .map(cellResult);
    const [e] = equalMetric(study, cells);
    expect(e.rows[0].perSeed.map((s) => s.seed)).toEqual([0]);
    expect(e.rows[0].savingTest).toBeNull();
    expect(e.rows[0].verdict).toMatch(
      /1 of 1 seeds inside baseline's measured range, so no interval and no claim/,
    );
  });

  it('an unknown factor or a single level is an INVALID_CONFIG naming the key', () => {
    expect(() => buildStudy({ ...spec, equalMetric: { factor: 'depth' } })).toThrow(
      /equalMetric\.factor names an unknown factor 'depth'/,
    );
    expect(() => buildStudy({ ...spec, factors: { width: [0.35] } })).toThrow(/needs at least 2 levels/);
  });
});

test('the report, from run folders: MACs from summary.json, the section and the plot', async () => {
  const study = buildStudy(spec);
  const cells = await planCells(study);
  for (const c of cells) {
    const width = c.levels[0].level;
    mkdirSync(c.runDir, { recursive: true });
    writeFileSync(join(c.runDir, 'config.json'), JSON.stringify({ meta: { hash: c.hash } }));
    writeFileSync(
      join(c.runDir, 'summary.json'),
      JSON.stringify({
        epochs: 1,
        seconds: 1,
        final: { test: { vocMAP: metricOf(c.arm, width, c.seed) } },
        model: { params: 1000, macs: COST[width] },
      }),
    );
    writeFileSync(join(c.runDir, 'metrics.jsonl'), '{"epoch":0,"train":{"top1":0.5,"loss":1},"seconds":1}\n');
  }
  const { results, markdown, dir } = await writeStudyReport(study, cells);
  expect(results.cells.map((c) => c.cost).sort()).toEqual(cells.map((c) => COST[c.levels[0].level]).sort());
  expect(results.equalMetric[0].rows[0].saving).toBeCloseTo(1 - Math.SQRT1_2, 9);
  expect(markdown).toContain('## MACs at equal test.vocMAP');
  expect(markdown).toContain(
    '| 0.25 | 1.00M | 0.5600 | 0.5100 | 1.41M (between width 0.25 and 0.35) | 29.3% | s0: 29.3%, s1: 24.2%, s2: 34.0% |',
  );
  expect(markdown).toContain(
    '| 0.5 | 4.00M | 0.8600 | 0.8100 | > 4.00M (none of its widths reaches it) | — | s0: above, s1: above, s2: above |',
  );
  const saved = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
  expect(saved.equalMetric[0].rows[2].control.kind).toBe('above');
  if (markdown.includes('## Plots')) expect(markdown).toContain('![equal-metric](equal-metric.png)');
});
