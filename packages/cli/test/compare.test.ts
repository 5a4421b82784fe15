import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../src/program';
import { compareReport, meanStd, type CompareRun } from '../src/commands/compare';
import { capture } from './capture';

describe('meanStd / compareReport', () => {
  it('mean and sample standard deviation, by hand', () => {
    // mean 0.5; deviations ±0.1, 0 → variance (0.01 + 0 + 0.01) / 2 = 0.01
    const r = meanStd([0.4, 0.5, 0.6]);
    expect(r.mean).toBeCloseTo(0.5, 12);
    expect(r.std).toBeCloseTo(0.1, 12);
    expect(meanStd([0.7])).toEqual({ mean: 0.7, std: 0, n: 1 });
  });

  it('pairs NetAug with the baseline of the same seed only', () => {
    const run = (strategy: 'baseline' | 'netaug', seed: number, top1: number): CompareRun => ({
      strategy,
      seed,
      top1,
      top1SharedStats: top1,
      runDir: `r/${strategy}-${seed}`,
      seconds: 1,
      reused: false,
    });
    const r = compareReport(
      [
        run('baseline', 0, 0.8),
        run('netaug', 0, 0.83),
        run('baseline', 1, 0.78),
        run('netaug', 1, 0.77),
        run('baseline', 2, 0.5),
      ],
      {},
    );
    expect(r.paired!.seeds).toEqual([0, 1]);
    expect(r.paired!.diffs[0]).toBeCloseTo(0.03, 12);
    expect(r.paired!.diffs[1]).toBeCloseTo(-0.01, 12);
    expect(r.paired!.mean).toBeCloseTo(0.01, 12);
    expect(r.paired!.netaugWins).toBe(1);
    expect(r.byStrategy.baseline.n).toBe(3);
    expect(r.byStrategy.baseline.mean).toBeCloseTo((0.8 + 0.78 + 0.5) / 3, 12);
  });
});

describe('netaug compare', () => {
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
    const report = JSON.parse(c.out);
    expect(report.runs.map((r: CompareRun) => `${r.strategy}-${r.seed}`)).toEqual([
      'baseline-0',
      'netaug-0',
      'baseline-1',
      'netaug-1',
    ]);
    for (const r of report.runs as CompareRun[]) {
      const summary = JSON.parse(readFileSync(join(r.runDir, 'summary.json'), 'utf8'));
      expect(r.top1).toBe(summary.final.reestimated.top1);
      expect(r.reused).toBe(false);
    }
    const b = report.runs.filter((r: CompareRun) => r.strategy === 'baseline').map((r: CompareRun) => r.top1);
    expect(report.byStrategy.baseline.mean).toBeCloseTo((b[0] + b[1]) / 2, 12);
    expect(report.paired.seeds).toEqual([0, 1]);
    expect(JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')).runs).toEqual(report.runs);
    expect(readFileSync(join(out, 'compare.md'), 'utf8')).toMatch(
      /^\| seed \| baseline \| netaug \| NetAug − baseline \|/,
    );

    const again = capture();
    expect(await runCli(args, again.io)).toBe(0);
    const second = JSON.parse(again.out);
    expect(second.runs.every((r: CompareRun) => r.reused)).toBe(true);
    expect(second.runs.map((r: CompareRun) => r.top1)).toEqual(report.runs.map((r: CompareRun) => r.top1));
    expect(again.err).toMatch(/finished run in .* reused/);
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
