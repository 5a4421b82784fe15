import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { resolveRunConfig } from '../run/load-config';
import type { RunConfigInput } from '../run/run-config';
import type { Output } from '../output';
import { UsageError } from '../errors';
import { addRunOptions } from './train';

interface CompareFlags extends Partial<Omit<RunConfigInput, 'channels' | 'strategy' | 'seed' | 'out'>> {
  preset?: string;
  config?: string;
  channels?: number;
  seeds: number[];
  strategies: ('baseline' | 'netaug')[];
  out?: string;
  plain?: boolean;
  quiet?: boolean;
  json?: boolean;
}

/** One finished run of a comparison. */
export interface CompareRun {
  strategy: 'baseline' | 'netaug';
  seed: number;
  runDir: string;
  /** Top-1 of the tiny model on the test set, BN re-estimated when the run re-estimated (the reported figure). */
  top1: number;
  /** Top-1 with the shared (not re-estimated) BN statistics. */
  top1SharedStats: number;
  seconds: number;
  /** True when the run folder already held a finished run with the same config (not trained again). */
  reused: boolean;
}

/** Mean and sample standard deviation. */
export function meanStd(xs: number[]): { mean: number; std: number; n: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(n, 1);
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

/** What `compare.json` holds. */
export interface CompareReport {
  runs: CompareRun[];
  byStrategy: Record<string, { mean: number; std: number; n: number }>;
  /** NetAug − baseline per seed (both present), and its mean / std. */
  paired?: { seeds: number[]; diffs: number[]; mean: number; std: number; netaugWins: number };
  config: Record<string, unknown>;
  date: string;
}

function parseSeeds(v: string): number[] {
  const seeds = v.split(',').map((s) => Number(s.trim()));
  if (!seeds.length || seeds.some((n) => !Number.isInteger(n) || n < 0))
    throw new UsageError(`--seeds must be a comma list of non-negative integers, got '${v}'`);
  if (new Set(seeds).size !== seeds.length) throw new UsageError(`--seeds has a repeated seed: '${v}'`);
  return seeds;
}

function parseStrategies(v: string): ('baseline' | 'netaug')[] {
  const list = v.split(',').map((s) => s.trim());
  const bad = list.filter((s) => s !== 'baseline' && s !== 'netaug');
  if (bad.length || !list.length)
    throw new UsageError(`--strategies must be a comma list of baseline, netaug; got '${v}'`);
  return [...new Set(list)] as ('baseline' | 'netaug')[];
}

/** The comparable part of a run's config (what must match for a finished run folder to be reused). */
function fingerprint(cfg: Record<string, unknown>): string {
  const { out: _out, backend: _backend, ...rest } = cfg;
  void _out;
  void _backend;
  return JSON.stringify(rest, Object.keys(rest).sort());
}

/** A finished run in `dir` trained with the same config, or null. */
function finishedRun(dir: string, cfg: Record<string, unknown>): { summary: RunSummaryLike } | null {
  const summaryFile = join(dir, 'summary.json');
  const configFile = join(dir, 'config.json');
  if (!existsSync(summaryFile) || !existsSync(configFile)) return null;
  try {
    const saved = JSON.parse(readFileSync(configFile, 'utf8')) as {
      meta?: { run?: Record<string, unknown> };
    };
    if (!saved.meta?.run || fingerprint(saved.meta.run) !== fingerprint(cfg)) return null;
    return { summary: JSON.parse(readFileSync(summaryFile, 'utf8')) as RunSummaryLike };
  } catch {
    return null;
  }
}

interface RunSummaryLike {
  seconds: number;
  final?: { sharedStats: { top1: number }; reestimated?: { top1: number } };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

/** The markdown table of a report (also printed). */
export function formatReport(r: CompareReport): string {
  const strategies = Object.keys(r.byStrategy);
  const seeds = [...new Set(r.runs.map((x) => x.seed))];
  const cell = (s: string, seed: number) => {
    const run = r.runs.find((x) => x.strategy === s && x.seed === seed);
    return run ? pct(run.top1) : '—';
  };
  const lines = [
    `| seed | ${strategies.join(' | ')}${r.paired ? ' | NetAug − baseline |' : ' |'}`,
    `|---|${strategies.map(() => '---|').join('')}${r.paired ? '---|' : ''}`,
    ...seeds.map((seed) => {
      const i = r.paired?.seeds.indexOf(seed) ?? -1;
      const diff =
        r.paired && i >= 0 ? ` ${(100 * r.paired.diffs[i]).toFixed(2)} pt |` : r.paired ? ' — |' : '';
      return `| ${seed} | ${strategies.map((s) => cell(s, seed)).join(' | ')} |${diff}`;
    }),
    `| mean ± std | ${strategies
      .map((s) => `${pct(r.byStrategy[s].mean)} ± ${(100 * r.byStrategy[s].std).toFixed(2)}`)
      .join(' | ')} |${
      r.paired ? ` ${(100 * r.paired.mean).toFixed(2)} ± ${(100 * r.paired.std).toFixed(2)} pt |` : ''
    }`,
  ];
  return lines.join('\n') + '\n';
}

/** Builds the report from finished runs. */
export function compareReport(runs: CompareRun[], config: Record<string, unknown>): CompareReport {
  const byStrategy: CompareReport['byStrategy'] = {};
  for (const s of [...new Set(runs.map((r) => r.strategy))])
    byStrategy[s] = meanStd(runs.filter((r) => r.strategy === s).map((r) => r.top1));
  const seeds = [...new Set(runs.map((r) => r.seed))].filter(
    (seed) =>
      runs.some((r) => r.seed === seed && r.strategy === 'baseline') &&
      runs.some((r) => r.seed === seed && r.strategy === 'netaug'),
  );
  let paired: CompareReport['paired'];
  if (seeds.length) {
    const diffs = seeds.map(
      (seed) =>
        runs.find((r) => r.seed === seed && r.strategy === 'netaug')!.top1 -
        runs.find((r) => r.seed === seed && r.strategy === 'baseline')!.top1,
    );
    const ms = meanStd(diffs);
    paired = { seeds, diffs, mean: ms.mean, std: ms.std, netaugWins: diffs.filter((d) => d > 0).length };
  }
  return { runs, byStrategy, ...(paired ? { paired } : {}), config, date: new Date().toISOString() };
}

export function registerCompare(program: Command, io: Output): void {
  addRunOptions(
    program
      .command('compare')
      .description(
        'Train the same config with several strategies and seeds; report top-1 per run, mean ± std, NetAug − baseline',
      ),
  )
    .option('--seeds <list>', 'comma list of seeds', parseSeeds, [0, 1, 2])
    .option('--strategies <list>', 'comma list of baseline, netaug', parseStrategies, ['baseline', 'netaug'])
    .option('--out <dir>', 'folder of the runs (<out>/<strategy>-seed<seed>) and compare.json / compare.md')
    .option('--plain', 'progress as plain lines')
    .option('--quiet', 'no progress output')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Finished runs with the same config are reused, an interrupted one resumes from its checkpoint: re-running the
same command continues an experiment.

Examples:
  $ netaug compare --preset fmnist-tiny --seeds 0,1,2 --out runs/compare-fmnist
  $ netaug compare --preset fmnist-tiny --subset 10000 --epochs 15 --seeds 0,1 --backend native --out runs/long`,
    )
    .action(async (flags: CompareFlags) => {
      const { preset, config, seeds, strategies, out, plain, quiet, json, ...rest } = flags;
      const outDir = out ?? `runs/compare-${preset ?? 'run'}`;
      const { trainRun } = await import('../run/train-run');
      const runs: CompareRun[] = [];
      let first: Record<string, unknown> | undefined;
      for (const seed of seeds) {
        for (const strategy of strategies) {
          const runDir = join(outDir, `${strategy}-seed${seed}`);
          const cfg = resolveRunConfig({
            preset,
            configFile: config,
            flags: {
              ...(rest as Partial<RunConfigInput>),
              backend: rest.backend ?? (process.env.NETAUG_BACKEND as RunConfigInput['backend']),
              strategy,
              seed,
              out: runDir,
            },
          });
          first ??= cfg as unknown as Record<string, unknown>;
          const done = finishedRun(runDir, cfg as unknown as Record<string, unknown>);
          let summary: RunSummaryLike;
          if (done) {
            summary = done.summary;
            io.err(`netaug: ${strategy} seed ${seed}: finished run in ${runDir} reused\n`);
          } else {
            const r = await trainRun(cfg, {
              resume: existsSync(join(runDir, 'checkpoint.bin')),
              plainProgress: plain,
              quiet,
              log: (s) => io.err(s + '\n'),
            });
            summary = r.summary;
          }
          const final = summary.final;
          if (!final)
            throw new UsageError(`run ${runDir} has no final evaluation (was it trained without test data?)`);
          runs.push({
            strategy,
            seed,
            runDir,
            top1: (final.reestimated ?? final.sharedStats).top1,
            top1SharedStats: final.sharedStats.top1,
            seconds: summary.seconds,
            reused: !!done,
          });
          if (!quiet) io.err(`netaug: ${strategy} seed ${seed}: top-1 ${pct(runs[runs.length - 1].top1)}\n`);
        }
      }
      const { out: _o, seed: _s, strategy: _st, ...shared } = first ?? {};
      void _o;
      void _s;
      void _st;
      const report = compareReport(runs, shared);
      mkdirSync(outDir, { recursive: true });
      atomicWrite(join(outDir, 'compare.json'), JSON.stringify(report, null, 2) + '\n');
      const md = formatReport(report);
      atomicWrite(join(outDir, 'compare.md'), md);
      const { plotComparison } = await import('@netaug/trainer');
      const plot = await plotComparison(
        Object.fromEntries(runs.map((r) => [`${r.strategy} s${r.seed}`, r.runDir])),
        join(outDir, 'compare'),
      );
      if (json) io.out(JSON.stringify(report, null, 2) + '\n');
      else io.out(md + `report: ${join(outDir, 'compare.md')}, plot: ${plot.png}\n`);
    });
}

function atomicWrite(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}
