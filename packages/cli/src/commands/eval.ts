import type { Command } from 'commander';
import type { Output } from '../output';

interface EvalFlags {
  run: string;
  data?: string;
  dataDir?: string;
  testSubset?: number;
  backend?: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
  json?: boolean;
}

export function registerEval(program: Command, io: Output): void {
  program
    .command('eval')
    .description(
      "Evaluate a run's exported tiny model (model.nair, BN re-estimated) on test data: top-1 / top-5, or VOC and COCO mAP for a detection run",
    )
    .requiredOption('--run <dir>', 'run folder of `netaug train`')
    .option('--data <name|path>', 'evaluate on other data (default: the run’s test split)')
    .option('--data-dir <dir>', 'where to look first for fashion-mnist / mnist')
    .option('--test-subset <n>', 'evaluate on a class-balanced subset', (v) => Number(v))
    .option('--backend <name>', 'auto, tensorflow, wasm or cpu')
    .option(
      '--json',
      'print JSON {top1, top5, loss, count, bnReestimated}; for a detection run {vocMAP, cocoMAP, cocoAP50, cocoAP75, count, bnReestimated}',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ netaug eval --run runs/netaug\n  $ netaug eval --run runs/netaug --json',
    )
    .action(async (flags: EvalFlags) => {
      const { evaluateRun } = await import('../run/eval-run');
      const r = await evaluateRun(flags);
      if (flags.json) {
        io.out(JSON.stringify(r, null, 2) + '\n');
        return;
      }
      if ('vocMAP' in r) {
        io.out(
          `VOC mAP@0.5 ${r.vocMAP.toFixed(4)}  COCO mAP ${r.cocoMAP.toFixed(4)} (AP50 ${r.cocoAP50.toFixed(4)}, AP75 ${r.cocoAP75.toFixed(4)})  ` +
            `on ${r.count} images of ${r.data} (BN re-estimated: ${r.bnReestimated ? 'yes' : 'no'})\n`,
        );
        return;
      }
      io.out(
        `top-1 ${(100 * r.top1).toFixed(2)}%  top-5 ${(100 * r.top5).toFixed(2)}%  loss ${r.loss.toFixed(4)}  ` +
          `on ${r.count} images of ${r.data} (BN re-estimated: ${r.bnReestimated ? 'yes' : 'no'})\n`,
      );
    });
}
