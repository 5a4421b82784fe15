/**
 * The study report's times: a run's wall time as its summary has it (pauses included), and the median of its
 * epochs' times from metrics.jsonl, which one paused or interrupted epoch does not move — on run folders whose
 * epoch times are written by hand, medians worked out here.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planCells } from '../src/study/cells';
import { writeStudyReport } from '../src/study/report';
import { buildStudy } from '../src/study/spec';

const tmp = mkdtempSync(join(tmpdir(), 'netaug-report-times-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// per cell: its epochs' wall times; baseline s1 was paused for 15 minutes in its second epoch
const EPOCHS: Record<string, number[]> = {
  'baseline-s0': [30, 20, 24, 22], // sorted 20 22 24 30 → (22 + 24) / 2 = 23
  'baseline-s1': [29, 993, 21, 23, 22], // sorted 21 22 23 29 993 → 23
  'netaug-s0': [60, 50, 55], // → 55
  'netaug-s1': [52, 58, 1048, 54], // sorted 52 54 58 1048 → 56
};

test('time per run is the summary wall time; median epoch is the median of metrics.jsonl epoch times', async () => {
  const study = buildStudy({
    name: 'times',
    out: join(tmp, 'out'),
    base: { model: 'mobilenetv2-tiny', data: 'fashion-mnist', epochs: 4, subset: 100, backend: 'cpu' },
    seeds: [0, 1],
    arms: { baseline: { config: { strategy: 'baseline' } }, netaug: { config: { strategy: 'netaug' } } },
    compare: [{ treatment: 'netaug', control: 'baseline' }],
  });
  const cells = await planCells(study);
  for (const c of cells) {
    const times = EPOCHS[c.id];
    mkdirSync(c.runDir, { recursive: true });
    writeFileSync(join(c.runDir, 'config.json'), JSON.stringify({ meta: { hash: c.hash } }));
    writeFileSync(
      join(c.runDir, 'summary.json'),
      JSON.stringify({
        epochs: times.length,
        seconds: times.reduce((a, b) => a + b, 0) + 5,
        final: {
          selected: { epoch: 0, rule: 'best-val' },
          val: { top1: 0.8 },
          test: { top1: 0.8 + c.seed / 100 },
        },
      }),
    );
    writeFileSync(
      join(c.runDir, 'metrics.jsonl'),
      times
        .map((s, epoch) =>
          JSON.stringify({ epoch, train: { top1: 0.7, loss: 1 }, val: { top1: 0.8 }, seconds: s }),
        )
        .join('\n') + '\n',
    );
  }
  const { results, markdown } = await writeStudyReport(study, cells);
  const epochSeconds = Object.fromEntries(results.cells.map((c) => [c.id, c.epochSeconds]));
  expect(epochSeconds).toEqual({ 'baseline-s0': 23, 'baseline-s1': 23, 'netaug-s0': 55, 'netaug-s1': 56 });
  const arm = (a: string) => results.arms.find((x) => x.arm === a)!;
  expect(arm('baseline').epochSeconds).toEqual({ mean: 23 });
  expect(arm('netaug').epochSeconds).toEqual({ mean: 55.5 });
  // wall time: (101 + 1093) / 2 s = 597 s ≈ 10 min; (170 + 1217) / 2 s = 693.5 s ≈ 12 min
  expect(arm('baseline').seconds.mean).toBe(597);
  expect(markdown).toContain('| time per run | median epoch |');
  const row = (a: string) => markdown.split('\n').find((l) => l.startsWith(`| — | ${a} | 2 |`))!;
  expect(row('baseline')).toMatch(/\| 10 min \| 23\.0 s \|$/);
  expect(row('netaug')).toMatch(/\| 12 min \| 55\.5 s \|$/);
  expect(markdown).toMatch(/Median epoch: each run's median epoch wall time/);
});

test('runs whose epochs have no time: the median epoch is null and the report prints —', async () => {
  const study = buildStudy({
    name: 'untimed',
    out: join(tmp, 'out2'),
    base: { model: 'mobilenetv2-tiny', data: 'fashion-mnist', epochs: 1, subset: 100, backend: 'cpu' },
    seeds: [0],
    arms: { baseline: { config: { strategy: 'baseline' } } },
    compare: [],
  });
  const [c] = await planCells(study);
  mkdirSync(c.runDir, { recursive: true });
  writeFileSync(join(c.runDir, 'config.json'), JSON.stringify({ meta: { hash: c.hash } }));
  writeFileSync(
    join(c.runDir, 'summary.json'),
    JSON.stringify({ epochs: 1, seconds: 60, final: { test: { top1: 0.5 } } }),
  );
  writeFileSync(join(c.runDir, 'metrics.jsonl'), '{"epoch":0,"train":{"top1":0.5,"loss":1}}\n');
  const { results, markdown } = await writeStudyReport(study, [c]);
  expect(results.cells[0].epochSeconds).toBeNull();
  expect(results.arms[0].epochSeconds).toBeNull();
  expect(markdown.split('\n').find((l) => l.startsWith('| — | baseline | 1 |'))).toMatch(/\| 1 min \| — \|$/);
});
