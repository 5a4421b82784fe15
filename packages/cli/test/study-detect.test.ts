/**
 * `netaug study` with detection cells (`task: detect`, metric `test.vocMAP`): the cells train through the same
 * runner, and the report and results.json carry each run's own mAPs (read back from the run folders here).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

jest.setTimeout(360_000);

const tmp = mkdtempSync(join(tmpdir(), 'netaug-study-detect-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test('a detection study: paired mAP comparison, val/test mAP per cell and per epoch equal to the runs', () => {
  const file = join(tmp, 'det.yaml');
  writeFileSync(
    file,
    [
      'name: det-smoke',
      `out: ${join(tmp, 'out')}`,
      'base:',
      '  task: detect',
      '  model: mobilenetv2-tiny',
      '  data: scenes',
      '  resolution: 48',
      '  subset: 32',
      '  valSplit: 16',
      '  testSubset: 16',
      '  batch: 16',
      '  bnImages: 32',
      '  backend: wasm',
      '  epochs: 1',
      '  warmupEpochs: 0',
      'seeds: [0, 1]',
      'arms:',
      '  baseline: { config: { strategy: baseline } }',
      '  netaug: { config: { strategy: netaug } }',
      'metric: test.vocMAP',
      '',
    ].join('\n'),
  );
  const bin = join(__dirname, '..', 'dist', 'bin.js');
  const r = spawnSync(process.execPath, [bin, 'study', file, '--parallel', '2'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`netaug study exited ${r.status}: ${r.stderr}`);
  expect(r.stderr + r.stdout).toMatch(/netaug-s1 finished \(val VOC mAP \d\.\d{4}, test VOC mAP \d\.\d{4}/);
  const dir = join(tmp, 'out', 'reports', 'det-smoke');
  const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
  expect(results.metric).toBe('test.vocMAP');
  expect(results.cells).toHaveLength(4);
  for (const c of results.cells) {
    const s = JSON.parse(readFileSync(join(c.runDir, 'summary.json'), 'utf8'));
    expect(s.final.test.vocMAP).toBeGreaterThanOrEqual(0);
    expect(c.metric).toBe(s.final.test.vocMAP);
    expect(c.testFigure).toBe(s.final.test.vocMAP);
    expect(c.valFigure).toBe(s.final.val.vocMAP);
    expect(c.testTop1).toBeNull(); // a detector has no top-1
    // the learning curve: the validation mAP of every epoch, as the run logged it
    const lines = readFileSync(join(c.runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(c.history.map((h: { valFigure: number }) => h.valFigure)).toEqual(lines.map((l) => l.val.vocMAP));
    expect(c.history.every((h: { trainTop1: number | null }) => h.trainTop1 === null)).toBe(true);
  }
  // ... which the curves plot draws (a top-1 plot would have had no points)
  const svg = readFileSync(join(dir, 'curves.svg'), 'utf8');
  expect(svg).toContain('Validation vocMAP of the tiny model per epoch');
  expect(svg).toContain('baseline val vocMAP');
  expect(svg).toContain('netaug val vocMAP');
  const paired = readFileSync(join(dir, 'paired.svg'), 'utf8');
  expect(paired).toContain('Paired difference per seed (test.vocMAP) with the 95% CI of the mean');
  expect(paired).not.toContain('difference (points)');
  // the paired difference is over the two seeds, netaug − baseline
  const cmp = results.comparisons[0];
  const m = (arm: string, seed: number) =>
    results.cells.find((c: { arm: string; seed: number }) => c.arm === arm && c.seed === seed).metric;
  expect(cmp.n).toBe(2);
  expect(cmp.mean).toBeCloseTo(
    (m('netaug', 0) - m('baseline', 0) + m('netaug', 1) - m('baseline', 1)) / 2,
    12,
  );
  const report = readFileSync(join(dir, 'report.md'), 'utf8');
  // no top-1 on training batches, so no fit gap: neither its explanation nor its (always empty) columns
  expect(report).toContain(
    '| cell | val vocMAP | test vocMAP | selected epoch | run folder |\n|---|---|---|---|---|\n',
  );
  expect(report).toContain(
    '| levels | arm | n | test.vocMAP (mean ± std) | val vocMAP | selected epoch | time per run |',
  );
  expect(report).not.toMatch(/fit gap/i);
});
