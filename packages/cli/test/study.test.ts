import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetAugError } from '@netaug/core';
import { runCli } from '../src/program';
import { loadRunData } from '../src/run/build-data';
import { parseRunConfig } from '../src/run/run-config';
import { canonicalRun, runHash, type RunEnvironment } from '../src/run/run-hash';
import { buildStudy } from '../src/study/spec';
import { cellStates, planCells } from '../src/study/cells';
import { syncRecords } from '../src/study/records';
import { matchesCell } from '../src/study/runner';
import { incompleteBeta, pairedTest, tCdf, tQuantile, verdict } from '../src/study/stats';
import type { StudyResults } from '../src/study/report';
import { capture } from './capture';

// these tests train in child processes: a loaded 2-core machine (CI next to other work) needs more than 120 s
jest.setTimeout(360_000);

const tmp = mkdtempSync(join(tmpdir(), 'netaug-study-'));

describe('statistics', () => {
  it("Student's t quantiles match the published table (two-sided 95%)", () => {
    // t_{0.975, df} from standard tables
    const table: [number, number][] = [
      [1, 12.7062047],
      [2, 4.30265273],
      [4, 2.77644511],
      [9, 2.26215716],
      [30, 2.04227246],
    ];
    for (const [df, q] of table) expect(tQuantile(0.975, df)).toBeCloseTo(q, 6);
    expect(tQuantile(0.025, 4)).toBeCloseTo(-2.77644511, 6);
    expect(tQuantile(0.5, 7)).toBe(0);
  });

  it('t CDF: the closed form for 2 degrees of freedom, a tabled two-sided p, the incomplete beta at symmetry', () => {
    // df = 2: F(t) = 1/2 + t / (2 sqrt(2 + t²))
    for (const t of [-3, -0.5, 0, 1, 3.4641016])
      expect(tCdf(t, 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(2 + t * t)), 12);
    // t = 2.0 with 5 df: two-sided p = 0.101939 (tables)
    expect(2 * (1 - tCdf(2, 5))).toBeCloseTo(0.101939, 5);
    expect(incompleteBeta(0.5, 3.5, 3.5)).toBeCloseTo(0.5, 12);
    // I_x(1, 1) = x
    expect(incompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 12);
  });

  it('paired test of [1, 2, 3] by hand: mean 2, sd 1, CI 2 ± 4.3027/√3, t = 2√3, p from the closed form', () => {
    const r = pairedTest([0, 1, 2], [1, 2, 3]);
    const half = 4.30265273 / Math.sqrt(3);
    expect(r.mean).toBeCloseTo(2, 12);
    expect(r.std).toBeCloseTo(1, 12);
    expect(r.ci95![0]).toBeCloseTo(2 - half, 6);
    expect(r.ci95![1]).toBeCloseTo(2 + half, 6);
    expect(r.t).toBeCloseTo(2 * Math.sqrt(3), 12);
    const t = 2 * Math.sqrt(3);
    expect(r.p).toBeCloseTo(2 * (0.5 - t / (2 * Math.sqrt(2 + t * t))), 10); // 0.0742
    expect(r.wins).toBe(3);
    expect(pairedTest([5], [0.2])).toEqual(expect.objectContaining({ n: 1, ci95: null, t: null, p: null }));
  });

  it('the verdict claims a gain or a loss only when the CI excludes 0', () => {
    const f = (x: number) => `${(100 * x).toFixed(2)} pt`;
    expect(verdict(pairedTest([0, 1, 2], [0.019, 0.02, 0.021]), 'netaug', 'baseline', f)).toMatch(
      /^netaug is better than baseline: 2\.00 pt .*excludes 0/,
    );
    expect(verdict(pairedTest([0, 1, 2], [-0.019, -0.02, -0.021]), 'netaug', 'baseline', f)).toMatch(
      /^netaug is worse than baseline/,
    );
    expect(verdict(pairedTest([0, 1, 2], [0.03, -0.01, 0.02]), 'netaug', 'baseline', f)).toMatch(
      /^No difference shown between netaug and baseline.*includes 0/,
    );
    expect(verdict(pairedTest([0], [0.05]), 'netaug', 'baseline', f)).toMatch(/no claim is made/);
    // lower is better (a loss): a negative difference is the better one
    expect(verdict(pairedTest([0, 1, 2], [-0.019, -0.02, -0.021]), 'a', 'b', f, false)).toMatch(
      /^a is better/,
    );
  });
});

describe('study files', () => {
  const base = { model: 'mobilenetv2-tiny', data: 'fashion-mnist', epochs: 2, subset: 100 };

  it('cells = arms × factor levels × seeds; named levels, `only`, and `after` ordering', () => {
    const s = buildStudy({
      base,
      seeds: [0, 1],
      arms: {
        pre: { config: { strategy: 'baseline' } },
        ft: { config: { strategy: 'netaug' }, after: ['pre'] },
        long: { config: { strategy: 'baseline', epochs: 8 }, only: { regime: ['small'] } },
      },
      factors: { regime: { small: { subset: 50 }, big: { subset: 200 } }, lr: [0.1, 0.05] },
      compare: [{ treatment: 'ft', control: 'pre' }],
    });
    expect(s.cells).toHaveLength(2 * 2 * 2 * 2 + 1 * 2 * 2);
    const ft = s.cells.find((c) => c.id === 'ft-small-0.05-s1')!;
    expect(ft.config).toEqual(expect.objectContaining({ strategy: 'netaug', subset: 50, lr: 0.05, seed: 1 }));
    expect(ft.after).toEqual(['pre-small-0.05-s1']);
    expect(ft.group).toBe('regime=small,lr=0.05');
    expect(s.cells.findIndex((c) => c.id === 'pre-small-0.05-s1')).toBeLessThan(s.cells.indexOf(ft));
    expect(s.cells.filter((c) => c.arm === 'long').map((c) => c.config.epochs)).toEqual([8, 8, 8, 8]);
    expect(s.cells.some((c) => c.id.startsWith('long-big'))).toBe(false);
    expect(s.out).toBe(join('runs', 'studies', 'study'));
  });

  it('a dependent arm gets the run folder of the cell it runs after (`${arm}` in its config)', async () => {
    const s = buildStudy({
      base: { ...base, backend: 'cpu' },
      seeds: [3],
      arms: {
        pre: { config: { strategy: 'baseline' } },
        ft: { config: { strategy: 'netaug', dataDir: '${pre}/data' }, after: ['pre'] },
      },
      compare: [],
    });
    const [pre, ft] = await planCells(s);
    expect(ft.after).toEqual(['pre-s3']);
    expect(ft.config.dataDir).toBe(`${pre.runDir}/data`);
    expect(pre.runDir).toMatch(new RegExp(`runs/pre-s3-${pre.hash.slice(0, 10)}$`));
    // the machine's choices are written into the planned config: a worker elsewhere trains it the same way
    expect(pre.config).toEqual(expect.objectContaining({ backend: 'cpu', out: pre.runDir }));
    expect(pre.env).toEqual(expect.objectContaining({ backend: 'cpu', threads: 1 }));
  });

  it('a fine-tuning arm (`init: ${pretrain}`) is planned before its pretraining run exists: its hash names that run', async () => {
    const s = buildStudy({
      base: { ...base, backend: 'cpu' },
      seeds: [3],
      arms: {
        pre: { config: { strategy: 'baseline', onlyClasses: [0, 1, 2, 3, 4] } },
        ft: {
          config: { strategy: 'baseline', onlyClasses: [5, 6, 7, 8, 9], init: '${pre}' },
          after: ['pre'],
        },
      },
      compare: [],
    });
    const [pre, ft] = await planCells(s);
    expect(existsSync(pre.runDir)).toBe(false);
    expect(ft.config.init).toBe(pre.runDir);
    expect(ft.config.lr).toBe(0.01);
    const env = ft.env;
    const known = new Map([[pre.runDir, pre.hash]]);
    expect(canonicalRun(ft.config, env, { knownRuns: known }).init).toBe(`run:${pre.hash}`);
    expect(runHash(ft.config, env, { knownRuns: known })).toBe(ft.hash);
    // once the pretraining run exists, its config.json says the same (what the training process computes)
    mkdirSync(pre.runDir, { recursive: true });
    writeFileSync(join(pre.runDir, 'config.json'), JSON.stringify({ meta: { hash: pre.hash } }));
    try {
      expect(runHash(ft.config, env)).toBe(ft.hash);
    } finally {
      rmSync(pre.runDir, { recursive: true, force: true });
    }
    // another pretraining run (another seed of it) is another fine-tuning run
    const other = new Map([[pre.runDir, 'f'.repeat(64)]]);
    expect(runHash(ft.config, env, { knownRuns: other })).not.toBe(ft.hash);
  });

  it('bad study files are typed errors naming the problem', () => {
    const bad = (spec: unknown, re: RegExp) => {
      try {
        buildStudy(spec, { file: 'x.yaml' });
        throw new Error('no throw');
      } catch (e) {
        expect(e).toBeInstanceOf(NetAugError);
        expect((e as NetAugError).code).toBe('INVALID_CONFIG');
        expect((e as Error).message).toMatch(re);
      }
    };
    bad({ base, seeds: [0, 0] }, /seeds repeat a seed/);
    bad({ base, seeds: [] }, /seeds/);
    bad({ base, seeds: [0], compare: [{ treatment: 'kd', control: 'baseline' }] }, /unknown arm 'kd'/);
    bad({ base, seeds: [0], arms: { a: { after: ['b'] } } }, /arms\.a\.after names an unknown arm 'b'/);
    bad(
      { base, seeds: [0], arms: { a: { after: ['b'] }, b: { after: ['a'] } }, compare: [] },
      /wait for each other in a cycle/,
    );
    bad({ base: { ...base, lr: -1 }, seeds: [0] }, /cell baseline-s0: .*lr/);
    bad({ base: { ...base, out: 'x' }, seeds: [0] }, /'out' is set by the study/);
    bad({ base, seeds: [0], bogus: 1 }, /unknown key 'bogus'/);
  });
});

describe('run hash', () => {
  const env: RunEnvironment = {
    backend: 'native',
    threads: 2,
    data: 'fashion-mnist@/usr/share/datasets/fashion-mnist',
  };
  const cfg = parseRunConfig({ model: 'mobilenetv2-tiny', data: 'fashion-mnist', epochs: 3, out: 'a' });

  it('covers what changes the result and nothing else', () => {
    const h = runHash(cfg, env);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(runHash({ ...cfg, out: 'elsewhere' }, env)).toBe(h);
    expect(runHash({ ...cfg, lr: 0.05 }, env)).not.toBe(h);
    expect(runHash({ ...cfg, seed: 1 }, env)).not.toBe(h);
    expect(runHash(cfg, { ...env, threads: 1 })).not.toBe(h);
    expect(runHash(cfg, { ...env, backend: 'wasm', threads: 1 })).not.toBe(h);
    expect(runHash(cfg, { ...env, data: 'fashion-mnist@embedded' })).not.toBe(h);
    // absent optional keys are left out, so adding an optional key keeps old hashes
    const c = canonicalRun(cfg, env);
    expect('valSplit' in c).toBe(false);
    expect('out' in c).toBe(false);
    expect(Object.keys(c)).toEqual([...Object.keys(c)].sort());
  });
});

describe('validation split', () => {
  it('holds out class-balanced training images, disjoint from the ones trained on', async () => {
    const cfg = parseRunConfig({
      model: 'mobilenetv2-tiny',
      data: 'fashion-mnist',
      epochs: 1,
      valSplit: 500,
      out: 'x',
    });
    const d = await loadRunData(cfg);
    const val = d.val as unknown as { indices: Int32Array; labels: Int32Array; size: number };
    const train = d.train as unknown as { indices: Int32Array; size: number; base: { size: number } };
    expect(val.size).toBe(500);
    expect(train.size + val.size).toBe(train.base.size);
    const counts = new Array(10).fill(0);
    for (const l of val.labels) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(50));
    const held = new Set(val.indices);
    expect(Array.from(train.indices).some((i) => held.has(i))).toBe(false);
    // the same images for another seed
    const d2 = await loadRunData({ ...cfg, seed: 7 });
    expect(Array.from((d2.val as unknown as { indices: Int32Array }).indices)).toEqual(
      Array.from(val.indices),
    );
  });
});

describe('class selection', () => {
  it('--only-classes keeps five classes in train, validation and test, relabelled in the order given', async () => {
    const cfg = parseRunConfig({
      model: 'mobilenetv2-tiny',
      data: 'fashion-mnist',
      epochs: 1,
      valSplit: 250,
      onlyClasses: ['Sandal', 'Shirt', 7, 8, 9],
      out: 'x',
    });
    const d = await loadRunData(cfg);
    expect(d.classNames).toEqual(['Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
    for (const ds of [d.train, d.val!, d.test]) {
      const labels = (ds as unknown as { labels: Int32Array }).labels;
      expect(new Set(labels)).toEqual(new Set([0, 1, 2, 3, 4]));
    }
    expect(d.val!.size).toBe(250);
    // Fashion-MNIST has 6,000 training and 1,000 test images per class
    expect(d.train.size + d.val!.size).toBe(d.test.size * 6);
  });
});

describe('netaug study (end to end, 2 strategies × 2 seeds, 1 epoch on a few hundred images)', () => {
  const file = join(tmp, 'tiny.yaml');
  const out = join(tmp, 'tiny-out');
  const records = join(tmp, 'tiny-records');
  writeFileSync(
    file,
    [
      'name: tiny',
      `out: ${out}`,
      `records: ${records}`,
      'base: { model: mobilenetv2-tiny, data: fashion-mnist, subset: 300, valSplit: 100, testSubset: 200,',
      '  epochs: 1, batch: 50, lr: 0.05, bnImages: 100, backend: wasm }',
      'seeds: [0, 1]',
      'arms: { baseline: { config: { strategy: baseline } }, netaug: { config: { strategy: netaug } } }',
      'compare: [{ treatment: netaug, control: baseline }]',
    ].join('\n'),
  );
  let results: StudyResults;

  beforeAll(async () => {
    const c = capture();
    // two cells at a time in child processes (`netaug train --config <cell.json>`, the built CLI); `netaug compare`'s
    // test covers cells trained in this process
    const code = await runCli(['study', file, '--parallel', '2', '--json'], c.io);
    if (code !== 0) throw new Error(c.err);
    results = JSON.parse(c.out);
  });

  it('the report holds what the run folders hold, and its statistics follow from them', () => {
    expect(results.cells.map((c) => c.id).sort()).toEqual([
      'baseline-s0',
      'baseline-s1',
      'netaug-s0',
      'netaug-s1',
    ]);
    const top1 = (id: string) => {
      const cell = results.cells.find((c) => c.id === id)!;
      const summary = JSON.parse(readFileSync(join(cell.runDir, 'summary.json'), 'utf8'));
      expect(summary.final.test.count).toBe(200);
      expect(cell.valTop1).toBe(summary.final.val.top1);
      const lines = readFileSync(join(cell.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n');
      const e = JSON.parse(lines[summary.final.selected.epoch]);
      expect(cell.fitGap).toBeCloseTo(e.train.top1 - e.val.top1, 12);
      return summary.final.test.top1 as number;
    };
    const t = Object.fromEntries(results.cells.map((c) => [c.id, top1(c.id)]));
    for (const c of results.cells) expect(c.metric).toBe(t[c.id]);
    const arm = (a: string) => results.arms.find((x) => x.arm === a)!;
    expect(arm('baseline').metric.mean).toBeCloseTo((t['baseline-s0'] + t['baseline-s1']) / 2, 12);
    expect(arm('netaug').n).toBe(2);
    const [cmp] = results.comparisons;
    const d0 = t['netaug-s0'] - t['baseline-s0'];
    const d1 = t['netaug-s1'] - t['baseline-s1'];
    expect(cmp.diffs[0]).toBeCloseTo(d0, 12);
    expect(cmp.diffs[1]).toBeCloseTo(d1, 12);
    // n = 2: mean ± t_{0.975,1} · |d0 − d1| / 2 (sd = |d0 − d1| / √2, se = sd / √2)
    const mean = (d0 + d1) / 2;
    const half = (12.7062047 * Math.abs(d0 - d1)) / 2;
    expect(cmp.ci95![0]).toBeCloseTo(mean - half, 6);
    expect(cmp.ci95![1]).toBeCloseTo(mean + half, 6);
    const md = readFileSync(join(out, 'reports', 'tiny', 'report.md'), 'utf8');
    expect(md).toMatch(/### netaug − baseline/);
    expect(md).toMatch(/95% CI \[/);
    // the t statistic as the report prints it (a minus sign like the differences', not a hyphen)
    const tText = cmp.t!.toFixed(2).replace('-', '−');
    expect(md).toContain(`paired t = ${tText} (df 1), p = ${cmp.p!.toPrecision(2)}`);
    expect(md).not.toMatch(/paired t = -/);
    // a classification study keeps its fit-gap columns: each cell's row shows its own gap in points
    expect(md).toMatch(
      /\| cell \| val top-1 \| test top-1 \| selected epoch \| fit gap \| run folder \|\n\|---\|---\|---\|---\|---\|---\|\n/,
    );
    expect(md).toMatch(
      /\| time per run \| median epoch \|\n\|---\|---\|---\|---\|---\|---\|---\|---\|---\|\n/,
    );
    for (const c of results.cells) {
      const row = md.split('\n').find((l) => l.startsWith(`| ${c.id} |`))!;
      const gap = (100 * c.fitGap!).toFixed(2);
      expect(row).toContain(`| ${c.fitGap! < 0 ? gap.replace('-', '−') : `+${gap}`}`);
    }
    for (const p of ['curves', 'paired', 'fit-gap'])
      expect(readFileSync(join(out, 'reports', 'tiny', `${p}.png`)).length).toBeGreaterThan(1000);
  });

  it('another study sharing the out folder finds the same runs under their first names (trained once)', async () => {
    const other = buildStudy(
      {
        name: 'other',
        out,
        base: {
          model: 'mobilenetv2-tiny',
          data: 'fashion-mnist',
          subset: 300,
          valSplit: 100,
          testSubset: 200,
          epochs: 1,
          batch: 50,
          lr: 0.05,
          bnImages: 100,
          backend: 'wasm',
        },
        seeds: [1],
        arms: { plain: { config: { strategy: 'baseline' } } },
        compare: [],
      },
      {},
    );
    const [cell] = await planCells(other);
    expect(cell.id).toBe('plain-s1');
    expect(cell.runDir).toBe(results.cells.find((c) => c.id === 'baseline-s1')!.runDir);
  });

  it('running it again reuses every finished cell; --status shows them done', async () => {
    const c = capture();
    expect(await runCli(['study', file, '--json'], c.io)).toBe(0);
    expect(c.err).toMatch(/4 cells, 4 done, 0 failed before, 0 to train/);
    const again = JSON.parse(c.out) as StudyResults;
    expect(again.cells.map((x) => x.metric)).toEqual(results.cells.map((x) => x.metric));
    const s = capture();
    expect(await runCli(['study', file, '--status', '--json'], s.io)).toBe(0);
    const st = JSON.parse(s.out);
    expect(st.cells.map((x: { status: string }) => x.status)).toEqual(['done', 'done', 'done', 'done']);
    // the plain status line: all done, so no time left to estimate
    const plain = capture();
    expect(await runCli(['study', file, '--status'], plain.io)).toBe(0);
    expect(plain.out).toMatch(/^4 done, 0 running, 0 interrupted, 0 pending, 0 failed$/m);
  });

  it('records: each finished cell is recorded (config, summary, metrics; no weights), byte for byte', () => {
    for (const cell of results.cells) {
      const dir = join(records, `${cell.id}-${cell.hash.slice(0, 10)}`);
      expect(readdirSync(dir).sort()).toEqual(['config.json', 'metrics.jsonl', 'summary.json']);
      for (const f of ['config.json', 'metrics.jsonl', 'summary.json'])
        expect(readFileSync(join(dir, f))).toEqual(readFileSync(join(cell.runDir, f)));
    }
    expect(JSON.parse(readFileSync(join(records, 'settings.json'), 'utf8'))).toEqual({
      parallel: 2,
      nativeThreads: 1,
    });
  });

  it('a clone without the run folders: the records give the same report, --status says done, nothing is trained', async () => {
    renameSync(out, `${out}.away`);
    try {
      const s = capture();
      expect(await runCli(['study', file, '--status', '--json'], s.io)).toBe(0);
      const st = JSON.parse(s.out);
      expect(st.cells.map((x: { status: string }) => x.status)).toEqual(['done', 'done', 'done', 'done']);
      const c = capture();
      expect(await runCli(['study', file, '--json'], c.io)).toBe(0);
      expect(c.err).toMatch(/4 cells, 4 done, 0 failed before, 0 to train/);
      const again = JSON.parse(c.out) as StudyResults;
      expect(again.cells.map((x) => x.metric)).toEqual(results.cells.map((x) => x.metric));
      expect(again.cells.map((x) => x.fitGap)).toEqual(results.cells.map((x) => x.fitGap));
      expect(again.comparisons[0].ci95).toEqual(results.comparisons[0].ci95);
      expect(again.cells.every((x) => x.runDir.startsWith(records))).toBe(true);
      expect(readdirSync(join(out, 'runs'))).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
      renameSync(`${out}.away`, out);
    }
  });
});

describe('netaug study --cells', () => {
  it('matches ids with * as any text, the rest literally', () => {
    expect(matchesCell('netaug-rrc-flip-s0', ['netaug-*'])).toBe(true);
    expect(matchesCell('baseline-4x-rrc-flip-s1', ['baseline-*-s1'])).toBe(true);
    expect(matchesCell('baseline-s1', ['baseline-s'])).toBe(false);
    expect(matchesCell('baseline-s1', ['baseline.s1'])).toBe(false);
    expect(matchesCell('baseline-s1', ['x', 'baseline-s1'])).toBe(true);
  });

  it('trains only the matching cells; a pattern matching nothing is an error listing the cells', async () => {
    const file = join(tmp, 'some.yaml');
    writeFileSync(
      file,
      [
        'name: some',
        `out: ${join(tmp, 'some-out')}`,
        'base: { model: mobilenetv2-tiny, data: fashion-mnist, subset: 200, valSplit: 50, testSubset: 100,',
        '  epochs: 1, batch: 50, lr: 0.05, bnImages: 50, backend: cpu }',
        'seeds: [0, 1]',
        'arms: { baseline: { config: { strategy: baseline } } }',
        'compare: []',
      ].join('\n'),
    );
    const bad = capture();
    expect(await runCli(['study', file, '--cells', 'netaug-*'], bad.io)).not.toBe(0);
    expect(bad.err).toMatch(
      /--cells: no cell of some matches 'netaug-\*' \(its cells: baseline-s0, baseline-s1\)/,
    );
    const c = capture();
    expect(await runCli(['study', file, '--cells', 'baseline-s1', '--json'], c.io)).toBe(0);
    expect(c.err).toMatch(/2 cells, 0 done, 0 failed before, 1 to train \(--cells baseline-s1\)/);
    const r = JSON.parse(c.out) as StudyResults;
    expect(r.cells.map((x) => x.id)).toEqual(['baseline-s1']);
    expect(r.unfinished).toEqual([{ id: 'baseline-s0', status: 'pending' }]);
  });
});

describe('study records of dependent cells', () => {
  // run folders written by hand (the files a finished run has): what is recorded, and when a model is kept
  const out = join(tmp, 'dep-out');
  const records = join(tmp, 'dep-records');
  const spec = {
    name: 'dep',
    out,
    records,
    base: { model: 'mobilenetv2-tiny', data: 'fashion-mnist', epochs: 1, subset: 100, backend: 'cpu' },
    seeds: [0],
    arms: {
      pre: { config: { strategy: 'baseline', onlyClasses: [0, 1, 2, 3, 4] } },
      ft: { config: { strategy: 'baseline', onlyClasses: [5, 6, 7, 8, 9], init: '${pre}' }, after: ['pre'] },
    },
    compare: [],
  };
  const finish = (dir: string, hash: string) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ meta: { hash } }));
    writeFileSync(join(dir, 'summary.json'), JSON.stringify({ epochs: 1, seconds: 1, final: {} }));
    writeFileSync(join(dir, 'metrics.jsonl'), '{"epoch":0,"train":{"top1":0.5,"loss":1},"seconds":1}\n');
    writeFileSync(join(dir, 'model.nair'), 'weights');
    writeFileSync(join(dir, 'checkpoint.bin'), 'state');
  };

  it('a pretraining record keeps model.nair until its fine-tuning cell is recorded; dependents then plan from it', async () => {
    const study = buildStudy(spec);
    const [pre, ft] = await planCells(study);
    finish(pre.runDir, pre.hash);
    expect(syncRecords(study, cellStates([pre, ft], out, records))).toEqual(['pre-s0']);
    const preRec = join(records, `pre-s0-${pre.hash.slice(0, 10)}`);
    expect(readdirSync(preRec).sort()).toEqual([
      'config.json',
      'metrics.jsonl',
      'model.nair',
      'summary.json',
    ]);
    // the run folders gone (a fresh clone): the pretraining cell is done from its record, and the fine-tuning
    // cell starts from the record's model, with the same hash as before
    rmSync(out, { recursive: true, force: true });
    const [pre2, ft2] = await planCells(buildStudy(spec));
    expect(pre2.runDir).toBe(preRec);
    expect(ft2.config.init).toBe(preRec);
    expect(ft2.hash).toBe(ft.hash);
    expect(cellStates([pre2, ft2], out, records).map((s) => s.status)).toEqual(['done', 'pending']);
    // the fine-tuning cell finishes: recorded, and the pretraining model is no longer kept
    finish(ft2.runDir, ft2.hash);
    expect(syncRecords(study, cellStates([pre2, ft2], out, records))).toEqual(['ft-s0']);
    expect(readdirSync(preRec).sort()).toEqual(['config.json', 'metrics.jsonl', 'summary.json']);
    // a run folder with another hash under the cell's name is not recorded
    rmSync(out, { recursive: true, force: true });
    const bad = buildStudy({ ...spec, records: join(tmp, 'dep-records-2') });
    const [p3, f3] = await planCells(bad);
    finish(p3.runDir, 'f'.repeat(64));
    expect(syncRecords(bad, cellStates([p3, f3], out, bad.records))).toEqual([]);
  });
});
