import type { Command } from 'commander';
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
  parallel?: number;
  plain?: boolean;
  quiet?: boolean;
  json?: boolean;
  plugin?: string[];
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

/**
 * `netaug compare`: a study written from flags — the run options are the base, each strategy an arm, NetAug
 * compared with the baseline seed by seed. Everything else (reuse, resume, report) is `netaug study`.
 */
export function registerCompare(program: Command, io: Output): void {
  addRunOptions(
    program
      .command('compare')
      .description(
        'Train one config with several strategies and seeds (a study from flags); report mean ± std per strategy and the paired NetAug − baseline difference with its 95% CI',
      ),
  )
    .option('--seeds <list>', 'comma list of seeds', parseSeeds, [0, 1, 2])
    .option('--strategies <list>', 'comma list of baseline, netaug', parseStrategies, ['baseline', 'netaug'])
    .option('--out <dir>', 'folder of the runs (<out>/runs/<strategy>-s<seed>-<hash>) and the report')
    .option('--parallel <n>', 'train n runs at once, each in its own process', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1)
        throw new UsageError(`--parallel must be a positive integer, got '${v}'`);
      return n;
    })
    .option('--plain', 'per-epoch progress lines')
    .option('--quiet', 'no progress output')
    .option('--json', 'print the report as JSON (results.json)')
    .addHelpText(
      'after',
      `
Finished runs with the same config are reused, an interrupted one resumes from its checkpoint: re-running the
same command continues an experiment. For factors, controls and several comparisons, write a study file
(netaug study).

Examples:
  $ netaug compare --preset fmnist-tiny --val-split 500 --seeds 0,1,2 --out runs/compare-fmnist
  $ netaug compare --preset fmnist-tiny --subset 10000 --epochs 15 --seeds 0,1 --backend native --out runs/long`,
    )
    .action(async (flags: CompareFlags) => {
      const { preset, config, seeds, strategies, out, parallel, plain, quiet, json, plugin, ...rest } = flags;
      const { readConfigFile } = await import('../run/load-config');
      const { buildStudy } = await import('../study/spec');
      const { runStudy, defaultNativeThreads } = await import('../study/runner');
      const { planCells } = await import('../study/cells');
      const { writeStudyReport } = await import('../study/report');
      const base = {
        ...(preset ? { preset } : {}),
        ...(config ? readConfigFile(config) : {}),
        ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
        ...(plugin ? { plugins: plugin } : {}),
        ...(rest.backend === undefined && process.env.NETAUG_BACKEND
          ? { backend: process.env.NETAUG_BACKEND }
          : {}),
      };
      if ((base as { task?: string }).task === 'detect')
        throw new UsageError(
          'netaug compare does not take --task detect yet (its report compares top-1): train each strategy with netaug train --task detect',
        );
      const study = buildStudy(
        {
          name: 'compare',
          base,
          seeds,
          arms: Object.fromEntries(strategies.map((s) => [s, { config: { strategy: s } }])),
          compare: strategies.length === 2 ? [{ treatment: 'netaug', control: 'baseline' }] : [],
        },
        { out: out ?? `runs/compare-${preset ?? 'run'}` },
      );
      const cells = await planCells(study, { nativeThreads: defaultNativeThreads(parallel ?? 1) });
      const result = await runStudy(study, cells, {
        parallel,
        plainProgress: plain,
        log: quiet ? () => undefined : (s) => io.err(s + '\n'),
      });
      const report = await writeStudyReport(study, cells);
      if (json) io.out(JSON.stringify(report.results, null, 2) + '\n');
      else io.out(report.markdown + `\nreport: ${report.dir}/report.md\n`);
      if (result?.failed.length)
        throw new UsageError(
          `${result.failed.length} cell(s) failed or were not run: ${result.failed.join(', ')} (their run folders hold failed.json)`,
        );
    });
}
