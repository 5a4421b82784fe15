import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../src/program';
import type { StudyResults } from '../src/study/report';
import { capture } from './capture';

describe('netaug compare (a study from flags)', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'netaug-compare-')), 'cmp');
  const args = [
    'compare',
    '--preset',
    'fmnist-tiny',
    '--subset',
    '128',
    '--test-subset',
    '100',
    '--bn-images',
    '64',
    '--epochs',
    '1',
    '--batch',
    '64',
    '--seeds',
    '0,1',
    '--backend',
    'wasm',
    '--quiet',
    '--json',
    '--out',
    out,
  ];

  it('trains every strategy × seed, reports what the run folders hold, and reuses finished runs', async () => {
    const c = capture();
    expect(await runCli(args, c.io)).toBe(0);
    const report = JSON.parse(c.out) as StudyResults;
    expect(report.cells.map((r) => r.id)).toEqual(['baseline-s0', 'baseline-s1', 'netaug-s0', 'netaug-s1']);
    for (const r of report.cells) {
      const summary = JSON.parse(readFileSync(join(r.runDir, 'summary.json'), 'utf8'));
      expect(r.metric).toBe(summary.final.test.top1);
      expect(summary.final.test.count).toBe(100);
      expect(summary.final.selected).toEqual({ epoch: 0, rule: 'best-val' }); // the preset holds out 1,000 images
      expect(summary.final.val.count).toBe(1000);
    }
    const b = report.cells.filter((r) => r.arm === 'baseline').map((r) => r.metric!);
    expect(report.arms.find((a) => a.arm === 'baseline')!.metric.mean).toBeCloseTo((b[0] + b[1]) / 2, 12);
    expect(report.comparisons[0].seeds).toEqual([0, 1]);
    expect(JSON.parse(readFileSync(join(out, 'reports', 'compare', 'results.json'), 'utf8')).cells).toEqual(
      report.cells,
    );
    expect(readFileSync(join(out, 'reports', 'compare', 'report.md'), 'utf8')).toMatch(
      /\| seed \| netaug \| baseline \| difference \|/,
    );

    const again = capture();
    expect(
      await runCli(
        args.filter((a) => a !== '--quiet'),
        again.io,
      ),
    ).toBe(0);
    const second = JSON.parse(again.out) as StudyResults;
    expect(again.err).toMatch(/4 cells, 4 done, 0 failed before, 0 to train/);
    expect(second.cells.map((r) => r.metric)).toEqual(report.cells.map((r) => r.metric));
  });

  it('rejects bad seeds and strategies with one line and exit code 1', async () => {
    for (const [flag, value, msg] of [
      ['--seeds', '0,x', /--seeds must be a comma list/],
      ['--seeds', '1,1', /repeated seed/],
      ['--strategies', 'kd', /--strategies must be a comma list of baseline, netaug/],
    ] as const) {
      const c = capture();
      expect(await runCli(['compare', '--preset', 'fmnist-tiny', flag, value], c.io)).toBe(1);
      expect(c.err).toMatch(msg);
      expect(c.err.trim().split('\n')).toHaveLength(1);
    }
  });
});
