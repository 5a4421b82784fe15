import type { Command } from 'commander';
import { formatTable, type Output } from '../output';
import { parsePositiveInt } from '../parse';

interface InspectFlags {
  dataDir?: string;
  size?: number;
  channels?: number;
  skipCorrupt?: boolean;
  json?: boolean;
}

export function registerData(program: Command, io: Output): void {
  const data = program.command('data').description('Inspect data sets');
  data
    .command('inspect')
    .description(
      'Detect the format of a data set and report counts per split and class, image shape, mean/std',
    )
    .argument(
      '<path|name>',
      'a folder (IDX, CIFAR binary, one sub-folder per class), a CSV/JSON manifest, or fashion-mnist / mnist',
    )
    .option('--data-dir <dir>', 'where to look first for fashion-mnist / mnist (also NETAUG_DATA)')
    .option('--size <px>', 'decode images to this size for the statistics', parsePositiveInt('--size'))
    .option('--channels <n>', 'decode images with 1 or 3 channels', parsePositiveInt('--channels'))
    .option('--skip-corrupt', 'skip unreadable images (counted) instead of failing')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ netaug data inspect fashion-mnist --json\n  $ netaug data inspect ./my-photos --size 96\n  $ netaug data inspect ./labels.csv',
    )
    .action(async (target: string, flags: InspectFlags) => {
      const { inspectDataset } = await import('@netaug/data');
      if (flags.channels !== undefined && flags.channels !== 1 && flags.channels !== 3) {
        const { UsageError } = await import('../errors');
        throw new UsageError(`--channels must be 1 or 3, got ${flags.channels}`);
      }
      const info = await inspectDataset(target, {
        dataDir: flags.dataDir,
        size: flags.size,
        channels: flags.channels as 1 | 3 | undefined,
        skipCorrupt: flags.skipCorrupt,
      });
      if (flags.json) {
        io.out(JSON.stringify(info, null, 2) + '\n');
        return;
      }
      const fmt = (xs: number[]) => xs.map((x) => x.toFixed(4)).join(', ');
      io.out(
        `format   ${info.format}\nsource   ${info.source}\nshape    ${info.shape.join('×')}\nclasses  ${info.numClasses}\n` +
          `mean     [${fmt(info.mean)}]\nstd      [${fmt(info.std)}]  (${info.statsSamples} images)\n` +
          (info.skipped ? `skipped  ${info.skipped} unreadable images\n` : '') +
          '\n',
      );
      const splits = Object.entries(info.splits).filter(([, s]) => s) as [
        string,
        { count: number; perClass: number[] },
      ][];
      io.out(
        formatTable([
          ['class', ...splits.map(([n]) => n)],
          ...info.classNames.map((c, i) => [c, ...splits.map(([, s]) => s.perClass[i] ?? 0)]),
          ['total', ...splits.map(([, s]) => s.count)],
        ]),
      );
    });
}
